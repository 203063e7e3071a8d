#!/usr/bin/env python3
"""A stand-in for tlc that dies by SIGSEGV: mutate.py must report it (the
fuzz-detects-crashes test), so the fuzz test is one that can fail."""
import os
import signal

os.kill(os.getpid(), signal.SIGSEGV)
