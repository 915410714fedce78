"""`Record`: an immutable value class that costs no more to create than a class statement.

A `@dataclass(frozen=True, slots=True)` writes the source of its methods and compiles each one as its module
is imported, about 0.3 ms a class, and builds the class twice; a command on an unchanged pipeline imports
dozens of such classes (the model, spans, targets) before it does any work. A `Record` subclass declares its
fields in `__slots__` and writes its own `__init__`, compiled once into the module's byte code like any other
function; the rest comes from here and behaves as a frozen, slotted dataclass with the same fields would:

- `==` compares two records of the same class field by field (`compare=False` in the class statement: by
  identity instead, with the identity hash); `hash` hashes the compared fields;
- `repr` is `Name(field=value, ...)`;
- assigning or deleting an attribute raises `dataclasses.FrozenInstanceError`;
- pickling and copying keep every slot, and restore them without calling `__init__`;
- `replace(record, **changes)` makes a copy with some fields changed, through `__init__`.

`_compared` and `_shown` name the fields compared (and hashed) and shown by `repr` when they are not all the
slots, and `_derived` the slots that `__init__` computes rather than takes (`replace` leaves them out). A
record may extend another: its own slots come after its parent's fields. `RecordBase` is all this but the
refusal to assign: for a class made by the hundred thousand whose `__init__` stores its fields plainly.
"""

from __future__ import annotations

from operator import attrgetter
from reprlib import recursive_repr
from typing import Any, ClassVar, TypeVar

# Records set their slots in `__init__` with this, as a frozen dataclass does: their own `__setattr__` refuses.
setfield = object.__setattr__


def _frozen(name: str, verb: str) -> AttributeError:
    from dataclasses import FrozenInstanceError  # only on this error path: its module is slow to import

    return FrozenInstanceError(f"cannot {verb} field {name!r}")


def _nothing(record: RecordBase) -> tuple[()]:
    return ()


class RecordBase:
    """What every record has (see the module's docstring) but frozenness: the base of `Record`, and of the
    one class whose instances are made by the hundred thousand, the planned job, whose constructor stores its
    fields plainly (a frozen record's `object.__setattr__` per field costs it twice as much)."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]]
    _compared: ClassVar[tuple[str, ...]]
    _shown: ClassVar[tuple[str, ...]]
    _derived: ClassVar[tuple[str, ...]] = ()
    _key: ClassVar[Any]

    def __init_subclass__(cls, *, compare: bool = True, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A subclass of a record adds its own slots to its parent's fields (and compares and shows them too,
        # unless it says otherwise); it compares by identity when its parent does.
        parent = cls.__mro__[1]
        own = tuple(cls.__dict__.get("__slots__", ()))
        cls._fields = getattr(parent, "_fields", ()) + own
        compared = cls.__dict__.get("_compared", getattr(parent, "_compared", ()) + own)
        cls._compared = compared
        cls._shown = cls.__dict__.get("_shown", getattr(parent, "_shown", ()) + own)
        # One field's getter gives the value itself, not a 1-tuple: hashes differ from a dataclass's, which
        # nothing may rely on (string hashes change from process to process anyway).
        cls._key = attrgetter(*compared) if compared else _nothing
        if not compare:
            cls.__eq__ = object.__eq__  # type: ignore[method-assign]
            cls.__hash__ = object.__hash__  # type: ignore[method-assign]

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            key = self._key
            return bool(key(self) == key(other))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._key(self))

    @recursive_repr()
    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._shown)
        return f"{self.__class__.__qualname__}({shown})"

    def __getstate__(self) -> list[Any]:
        return [getattr(self, name) for name in self._fields]

    def __setstate__(self, state: list[Any]) -> None:
        for name, value in zip(self._fields, state):
            setfield(self, name, value)


class Record(RecordBase):
    """Base of the immutable records (see the module's docstring)."""

    __slots__ = ()

    def __setattr__(self, name: str, value: object) -> None:
        raise _frozen(name, "assign to")

    def __delattr__(self, name: str) -> None:
        raise _frozen(name, "delete")


R = TypeVar("R", bound=RecordBase)  # the class itself: a bound given as text would be compiled at import


def replace(record: R, **changes: Any) -> R:
    """A copy of `record` with `changes`, made through its `__init__` (as `dataclasses.replace`)."""
    derived = record._derived
    for name in changes:
        if name in derived:
            raise ValueError(f"field {name!r} is computed by {type(record).__qualname__}() and cannot be replaced")
    fields = {name: getattr(record, name) for name in record._fields if name not in derived}
    return record.__class__(**{**fields, **changes})


def fields_of(record: RecordBase) -> tuple[str, ...]:
    """Every field of `record`, its computed ones too, in declaration order."""
    return record._fields
