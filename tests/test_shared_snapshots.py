"""A public room's snapshot is shared while the centre's sequence number stands still, and read
again after any commit or once it is old."""
from hangdoi.web.realtime.snapshots import SharedSnapshots


class Reads:
    def __init__(self):
        self.seq, self.count = 5, 0

    def __call__(self):
        self.count += 1
        return {"seq": self.seq, "read": self.count}


def test_a_snapshot_is_shared_until_a_commit_or_its_age_says_otherwise():
    now = [100.0]
    kept, reads = SharedSnapshots(max_age=2.0, clock=lambda: now[0]), Reads()
    first = kept.get("display", 1, 5, reads)
    assert kept.get("display", 1, 5, reads) is first and reads.count == 1
    assert kept.get("kiosk", 1, 5, reads)["read"] == 2          # another room
    assert kept.get("display", 2, 5, reads)["read"] == 3        # another centre
    reads.seq = 6                                                # a commit
    assert kept.get("display", 1, 6, reads)["read"] == 4
    now[0] += 2.5                                                # the estimates have drifted
    assert kept.get("display", 1, 6, reads)["read"] == 5


def test_a_snapshot_read_after_a_later_commit_is_not_kept_for_the_earlier_seq():
    kept, reads = SharedSnapshots(), Reads()
    reads.seq = 8                  # committed between reading the seq (7) and reading the snapshot
    assert kept.get("display", 1, 7, reads)["seq"] == 8
    assert kept.get("display", 1, 7, reads)["read"] == 2        # read again: nothing was kept for 7
