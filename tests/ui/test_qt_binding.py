"""The Qt binding must not corrupt the interpreter under a day's worth of signals.

PySide6 6.12.0 dropped a reference to ``True`` on every signal emitted from
Python; after a few thousand emits the process aborted with "bool_dealloc".
An operator's desk emits that many in an hour, so the pin in pyproject.toml
keeps us off that release and this test keeps the pin honest.
"""

import subprocess
import sys
import textwrap


def test_emitting_signals_from_python_does_not_leak_bool_references():
    # In a child process: a broken binding aborts the interpreter outright.
    script = textwrap.dedent(
        """
        import sys
        from PySide6.QtCore import QCoreApplication, QObject, Signal

        class Source(QObject):
            number = Signal(int)
            bare = Signal()

        app = QCoreApplication([])
        source = Source()
        source.number.connect(lambda value: None)
        source.bare.connect(lambda: None)
        before = sys.getrefcount(True)
        for i in range(5000):
            source.number.emit(i)
            source.bare.emit()
        print(sys.getrefcount(True) - before)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert abs(int(done.stdout.strip())) < 50
