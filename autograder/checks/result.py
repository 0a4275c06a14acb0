"""The result of a check: data first, an assertion only at the very end."""
from __future__ import annotations

from dataclasses import dataclass


class CheckFailed(AssertionError):
    """Raised by :meth:`CheckResult.assert_passed`; its message is the student's feedback."""


@dataclass(frozen=True)
class CheckResult:
    """What one check found.

    ``message`` says what was tried and, on failure, what is wrong in words a student can act
    on; ``diagnosis`` names the typical mistake the student's numbers match, when one does.
    """

    name: str
    passed: bool
    message: str
    cases: int = 0
    diagnosis: str | None = None

    def __str__(self) -> str:
        mark = "passed" if self.passed else "FAILED"
        text = f"[{mark}] {self.name}: {self.message}"
        if self.diagnosis:
            text += f"\n  Likely cause: {self.diagnosis}"
        return text

    def assert_passed(self) -> None:
        """Print the verdict on stdout when it passed; raise :class:`CheckFailed` when not."""
        __tracebackhide__ = True  # IPython and pytest hide this frame: the message is the point
        if not self.passed:
            raise CheckFailed(str(self))
        print(str(self))


def passed(name: str, cases: int, what: str) -> CheckResult:
    return CheckResult(name, True, f"{cases} cases agree with {what}.", cases)


def failed(name: str, message: str, cases: int = 0, diagnosis: str | None = None) -> CheckResult:
    return CheckResult(name, False, message, cases, diagnosis)
