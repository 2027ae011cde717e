// The browser side of the realtime protocol (see README "Realtime"): subscribe on every
// (re)connect, skip what the snapshot already holds, re-subscribe when a seq stays missing.
const GAP_GRACE_MS = 1000;

export class Realtime {
  // `device`: a kiosk's or display's key, so managers see it online.
  // `onEstimates`: new waiting-time estimates per service (whole, not seq-ordered: the latest wins).
  // `centre`: the centre's id where the server hosts several (a device's key says it already).
  constructor(room, { onSnapshot, onState, onCall, onConnection, onEstimates, device, centre } = {}) {
    this.room = room;
    this.device = device;
    this.centre = centre ? Number(centre) : null;
    this.handlers = { onSnapshot, onState, onCall, onConnection, onEstimates };
    this.seq = null;          // every change up to here is held
    this.snapshotSeq = 0;
    this.ahead = new Set();   // seqs received beyond this.seq
    this.buffer = [];
    this.socket = io({ transports: ["websocket"], reconnectionDelay: 500, reconnectionDelayMax: 3000 });
    this.socket.on("connect", () => this.subscribe());
    this.socket.on("disconnect", () => { this.seq = null; this.call("onConnection", false); });
    // A link that never came up (the server went down while the page loaded) is offline too:
    // no "disconnect" is ever emitted for it.
    this.socket.on("connect_error", () => this.call("onConnection", false));
    this.socket.on("state_changed", (data) => this.receive("state_changed", data));
    this.socket.on("ticket_called", (data) => this.receive("ticket_called", data));
    this.socket.on("estimates", (data) => { if (data && data.services) this.call("onEstimates", data.services); });
    // A service closed or reopened, the catalogue or the counters changed: take the whole picture again.
    this.socket.on("offer_changed", () => { if (this.seq !== null) this.subscribe(); });
  }

  call(name, ...args) { const handler = this.handlers[name]; if (handler) handler(...args); }

  subscribe() {
    this.seq = null;
    const ask = { room: this.room };
    if (this.device) ask.device = this.device;
    if (this.centre) ask.centre = this.centre;
    this.socket.emit("subscribe", ask, (ack) => {
      if (!ack || ack.error) { console.error("subscribe refused", ack && ack.error); return; }
      this.seq = ack.seq; this.snapshotSeq = ack.seq; this.ahead.clear();
      this.call("onSnapshot", ack.snapshot);
      this.call("onConnection", true);
      const pending = this.buffer; this.buffer = [];
      pending.forEach(([event, data]) => this.apply(event, data));
    });
  }

  receive(event, data) {
    if (this.seq === null) { this.buffer.push([event, data]); return; }
    this.apply(event, data);
  }

  apply(event, data) {
    if (!data || typeof data.seq !== "number") return;
    if (event === "ticket_called") { if (data.seq > this.snapshotSeq) this.call("onCall", data); return; }
    const fresh = (data.seqs || [data.seq]).filter((s) => s > this.seq);
    if (!fresh.length) return;
    fresh.forEach((s) => this.ahead.add(s));
    while (this.ahead.has(this.seq + 1)) { this.seq += 1; this.ahead.delete(this.seq); }
    this.call("onState", data);
    if (this.ahead.size) {
      const held = this.seq;
      setTimeout(() => { if (this.seq === held && this.ahead.size) this.subscribe(); }, GAP_GRACE_MS);
    }
  }
}

// Keep the newer of two versions of one entity (each carries the seq that produced it).
export function newer(current, incoming) {
  return !current || (current.seq ?? -1) <= (incoming.seq ?? -1) ? incoming : current;
}
