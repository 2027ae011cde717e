"""Ticket printers.

    ticket.py     what a printed ticket says (PrintedTicket) and its layout, rendered to a 1-bit image
    raster.py     that image as compact ESC/POS raster commands
    status.py     reading paper and online status (DLE EOT)
    transports.py USB, network, serial, device file and the preview folder
    service.py    one worker per printer: print a ticket within a time limit, remember the status
    fake.py       printers that really exist on this machine: a TCP port and a pty
    escpos_parse.py  reads ESC/POS bytes back (the fakes and the tests use it)
"""
