"""``python -m dsr``: the same CLI as the ``dsr`` script (handy with ``torchrun -m dsr ...``)."""

from dsr.cli import main

main(prog_name="dsr")
