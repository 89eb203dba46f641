"""YAML text to plain data, with the position of every key and value, in one linear pass.

The config loader used to ``yaml.compose`` the whole file with PyYAML's pure-Python scanner and
then walk the node tree: a 3.9 MB file took 12–17 s (about 3 µs a character in the scanner), held
every node and two marks per node in memory (~540 MB), and counted every node against an "alias
bomb" limit, so a big honest file was refused as one. Here the parse events come from libyaml
(PyYAML's ``CSafeLoader``; the pure-Python parser when libyaml is missing) and are turned into
data as they arrive, so no node tree is ever built.

What is refused, each with the position it was found at (:class:`YamlProblem`):

- tags other than the standard scalar ones (``!!str``, ``!!int``, ``!!float``, ``!!bool``,
  ``!!null``) and ``!!map``/``!!seq``: ``!!binary``, ``!!timestamp``, ``!!set``, ``!!python/…``
  and custom ``!tags``;
- aliases that would add more than :data:`MAX_ALIAS_NODES` nodes in all (each use of an alias
  counts every node of what it stands for, nested aliases included, without expanding anything):
  the "billion laughs"; a file without aliases never gets near this limit, whatever its size;
- nesting deeper than :data:`MAX_DEPTH`, duplicate keys and anchors, non-string keys, undefined
  or recursive aliases, NaN, more than one document.

``<<`` merge keys work as in PyYAML (explicit keys win, then earlier merges). Nothing here knows
the config schema or imports pydantic or Textual.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

Loc = tuple[str | int, ...]
Pos = tuple[int, int]

MAX_ALIAS_NODES = 200_000
"""Nodes that aliases may add to the document in all (a node is a scalar, list or mapping)."""
MAX_DEPTH = 50
"""Lists and mappings nested deeper than this are refused."""

_Y = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (f"{_Y}{n}" for n in ("str", "int", "float", "bool", "null"))
_MERGE, _TIMESTAMP, _VALUE = f"{_Y}merge", f"{_Y}timestamp", f"{_Y}value"
_MAP, _SEQ = f"{_Y}map", f"{_Y}seq"
_MERGED = -1  # a loc part no key or index can be: where "<<" sources are built
EXPLICIT_SCALAR_TAGS = frozenset({_STR, _INT, _FLOAT, _BOOL, _NULL})
"""Tags a scalar may carry explicitly (``!!int "5"``); anything else is refused."""

Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when PyYAML was built with it (the wheels are), else the Python one."""

_resolve: Callable[[type[yaml.Node], str, tuple[bool, bool]], str] = (
    yaml.resolver.Resolver().resolve)
_CONSTRUCTOR = yaml.SafeLoader("")  # its construct_yaml_* methods, on scalars only


_REPARSE_LIMIT = 256 * 1024
_REASONS = {_INT: "not a whole number", _FLOAT: "not a number", _BOOL: "not true or false"}


class YamlProblem(Exception):
    """Something in the text that is refused; ``line``/``col`` are 1-based (None: no position)."""

    def __init__(self, message: str, line: int | None = None, col: int | None = None,
                 loc: Loc = ()) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.col = col
        self.loc = loc


@dataclass(slots=True)
class Parsed:
    """The document as plain data plus the position of every value and key."""

    data: Any
    values: dict[Loc, Pos] = field(default_factory=dict)
    keys: dict[Loc, Pos] = field(default_factory=dict)
    nodes: int = 0
    """Nodes written in the file."""
    alias_nodes: int = 0
    """Nodes added by aliases (what :data:`MAX_ALIAS_NODES` limits)."""


@dataclass(slots=True)
class _Anchor:
    value: Any
    size: int  # nodes it stands for, aliases inside it included
    pos: Pos
    positions: list[tuple[Loc, bool, Pos]]  # (loc relative to the anchor, is a key, position)


def short_tag(tag: str) -> str:
    """``tag:yaml.org,2002:binary`` → ``!!binary`` (how it is written in a file)."""
    return "!!" + tag[len(_Y):] if tag.startswith(_Y) else tag


def _pos(event: Any) -> Pos:
    mark = event.start_mark
    return mark.line + 1, mark.column + 1


def parse_yaml(text: str, on_string: Callable[[str, Loc, Pos], str] | None = None) -> Parsed:
    """Turn one YAML document into plain data (dicts, lists, str, int, float, bool, None, and
    dates for unquoted timestamps).

    Args:
        text: the document.
        on_string: called with every string value that contains ``${`` (its loc and position);
            its result replaces the value (the loader expands secret references here).

    Returns:
        The data (None for an empty document) and the positions.

    Raises:
        YamlProblem: a syntax error or anything listed in the module docstring.
    """
    collecting = gc.isenabled()
    gc.disable()  # process-wide, for the parse only: the data has no cycles, and collections
    # while it grows cost a quarter of the time of a big file
    try:
        return _Events(text, on_string).document()
    except yaml.MarkedYAMLError as exc:
        raise _syntax_problem(exc, text) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"invalid YAML: {exc}") from None
    finally:
        if collecting:
            gc.enable()


def _syntax_problem(exc: yaml.MarkedYAMLError, text: str) -> YamlProblem:
    """A one-line syntax error. libyaml's wording is terser than the Python parser's ("found
    character that cannot start any token" does not say it is a tab), so when the error is in the
    first 256 KiB (the Python parser reads that in well under a second) and the Python parser
    stops at the same place, its wording is used."""
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "syntax error"
    if Loader is not yaml.SafeLoader and mark is not None and mark.index <= _REPARSE_LIMIT:
        try:
            loader: Any = yaml.SafeLoader(text)
            try:
                while loader.check_event():
                    loader.get_event()
            finally:
                loader.dispose()
        except yaml.MarkedYAMLError as again:
            other = again.problem_mark or again.context_mark
            if other is not None and (other.line, other.column) == (mark.line, mark.column):
                problem = again.problem or again.context or problem
        except yaml.YAMLError:
            pass
    if problem == "exceeded maximum nesting depth":  # libyaml stops at 1000 levels
        problem = "nested too deeply"
    if mark is None:
        return YamlProblem(f"invalid YAML: {problem}")
    return YamlProblem(f"invalid YAML: {problem}", mark.line + 1, mark.column + 1)


class _Events:
    """Builds data from the parser's events (recursive descent, at most MAX_DEPTH deep)."""

    def __init__(self, text: str, on_string: Callable[[str, Loc, Pos], str] | None) -> None:
        self.loader = Loader(text)
        self.next: Callable[[], Any] = self.loader.get_event
        self.on_string = on_string
        self.out = Parsed(None)
        self.anchors: dict[str, _Anchor] = {}
        self.building: dict[str, Pos] = {}  # anchors whose node is not complete yet
        self.recorders: list[tuple[Loc, list[tuple[Loc, bool, Pos]]]] = []

    def document(self) -> Parsed:
        try:
            self.next()  # StreamStart
            event = self.next()
            if isinstance(event, yaml.StreamEndEvent):
                return self.out
            event = self.next()  # the root node's first event, after DocumentStart
            self.out.data, _size = self.node(event, (), 0)
            self.next()  # DocumentEnd
            event = self.next()
            if not isinstance(event, yaml.StreamEndEvent):
                line, col = _pos(event)
                raise YamlProblem("a config is one YAML document; found a second one ('---')",
                                  line, col)
            return self.out
        finally:
            self.loader.dispose()

    # -- positions ------------------------------------------------------------------------------

    def record(self, loc: Loc, pos: Pos, *, key: bool = False) -> None:
        if key:
            self.out.keys.setdefault(loc, pos)
        else:
            self.out.values.setdefault(loc, pos)
        for base, positions in self.recorders:
            positions.append((loc[len(base):], key, pos))

    # -- nodes ----------------------------------------------------------------------------------

    def node(self, event: Any, loc: Loc, depth: int) -> tuple[Any, int]:
        """The value starting with ``event`` and its size in nodes."""
        if isinstance(event, yaml.AliasEvent):
            return self.alias(event, loc)
        pos = _pos(event)
        self.record(loc, pos)
        anchor = event.anchor
        if anchor is not None:
            if anchor in self.anchors or anchor in self.building:
                first = self.anchors[anchor].pos if anchor in self.anchors else self.building[anchor]
                raise YamlProblem(f"duplicate anchor &{anchor} (first defined on line "
                                  f"{first[0]})", *pos, loc)
            self.building[anchor] = pos
            self.recorders.append((loc, []))
        if isinstance(event, yaml.ScalarEvent):
            value, size = self.scalar(event, loc, pos), 1
        elif depth >= MAX_DEPTH:
            raise YamlProblem(f"nested more than {MAX_DEPTH} levels deep", *pos, loc)
        elif isinstance(event, yaml.SequenceStartEvent):
            self.check_collection_tag(event, _SEQ, loc, pos)
            value, size = self.sequence(loc, depth)
        elif isinstance(event, yaml.MappingStartEvent):
            self.check_collection_tag(event, _MAP, loc, pos)
            value, size = self.mapping(loc, pos, depth)
        else:  # pragma: no cover - the parser only starts nodes with the events above
            raise YamlProblem(f"unexpected YAML event {type(event).__name__}", *pos, loc)
        self.out.nodes += 1
        if anchor is not None:
            del self.building[anchor]
            _base, positions = self.recorders.pop()  # outer recorders got them too
            self.anchors[anchor] = _Anchor(value, size, pos, positions)
        return value, size

    def alias(self, event: Any, loc: Loc) -> tuple[Any, int]:
        pos = _pos(event)
        name = event.anchor
        target = self.anchors.get(name)
        if target is None:
            if name in self.building:
                raise YamlProblem(f"recursive alias *{name} (it is inside the node it names)",
                                  *pos, loc)
            raise YamlProblem(f"undefined alias *{name} (define it first with &{name})",
                              *pos, loc)
        self.out.alias_nodes += target.size
        if self.out.alias_nodes > MAX_ALIAS_NODES:
            raise YamlProblem(f"aliases expand to more than {MAX_ALIAS_NODES} nodes (an alias "
                              "bomb?); write the repeated parts out or use fewer aliases",
                              *pos, loc)
        self.record(loc, pos)
        for rel, key, where in target.positions:  # errors inside point at the anchored text
            self.record((*loc, *rel), where, key=key)
        return target.value, target.size

    def check_collection_tag(self, event: Any, expected: str, loc: Loc, pos: Pos) -> None:
        tag = event.tag
        if tag is not None and tag != "!" and tag != expected:
            raise YamlProblem(f"unsupported YAML tag {short_tag(tag)!r}", *pos, loc)

    def scalar(self, event: Any, loc: Loc, pos: Pos) -> Any:
        text: str = event.value
        tag = event.tag
        if tag is None or tag == "!":
            tag = _resolve(yaml.ScalarNode, text, event.implicit)
        elif tag not in EXPLICIT_SCALAR_TAGS:
            allowed = ", ".join(short_tag(t) for t in sorted(EXPLICIT_SCALAR_TAGS))
            raise YamlProblem(f"unsupported YAML tag {short_tag(tag)!r} (a config value is "
                              f"text, a number, true/false or null; allowed tags: {allowed})",
                              *pos, loc)
        if tag in (_STR, _MERGE, _VALUE):  # "<<" or "=" as a value: text
            value: Any = text
        else:
            value = self.construct(tag, text, loc, pos, implicit=event.tag in (None, "!"))
        if isinstance(value, float) and math.isnan(value):
            raise YamlProblem("NaN is not a valid value", *pos, loc)
        if isinstance(value, str) and "${" in value and self.on_string is not None:
            value = self.on_string(value, loc, pos)
        return value

    def construct(self, tag: str, text: str, loc: Loc, pos: Pos, *, implicit: bool) -> Any:
        node = yaml.ScalarNode(tag, text)
        try:
            if tag == _INT:
                return _CONSTRUCTOR.construct_yaml_int(node)
            if tag == _FLOAT:
                return _CONSTRUCTOR.construct_yaml_float(node)
            if tag == _BOOL:
                return _CONSTRUCTOR.construct_yaml_bool(node)
            if tag == _NULL:
                return None
            if tag == _TIMESTAMP:  # only ever implicit: explicit !!timestamp is refused
                return _CONSTRUCTOR.construct_yaml_timestamp(node)
        except (ValueError, TypeError, IndexError, KeyError, yaml.YAMLError) as exc:
            reason = _REASONS.get(tag) or " ".join(str(exc).split())[:120]
            if "Exceeds the limit" in str(exc):  # int() of more than 4300 digits
                reason = "too many digits"
            shown = repr(text) if len(text) <= 40 else repr(text[:39] + "…")
            hint = " (quote it to write text)" if implicit else ""
            raise YamlProblem(f"invalid {short_tag(tag)} value {shown}: {reason}{hint}",
                              *pos, loc) from None
        raise YamlProblem(f"unsupported YAML tag {short_tag(tag)!r}", *pos, loc)

    def sequence(self, loc: Loc, depth: int) -> tuple[list[Any], int]:
        items: list[Any] = []
        size = 1
        while True:
            event = self.next()
            if isinstance(event, yaml.SequenceEndEvent):
                return items, size
            value, n = self.node(event, (*loc, len(items)), depth + 1)
            items.append(value)
            size += n

    def mapping(self, loc: Loc, pos: Pos, depth: int) -> tuple[dict[str, Any], int]:
        out: dict[str, Any] = {}
        size = 1
        merged: list[dict[str, Any]] = []
        merged_positions: list[tuple[Loc, bool, Pos]] = []
        while True:
            event = self.next()
            if isinstance(event, yaml.MappingEndEvent):
                break
            key_pos = _pos(event)
            key = self.key(event, loc, key_pos)
            if key is None:  # "<<: *base" or "<<: [*a, *b]"
                size += self.merge(loc, depth, merged, merged_positions)
                continue
            sub = (*loc, key)
            if key in out:
                first = self.out.keys.get(sub, key_pos)[0]
                raise YamlProblem(f"duplicate key {key!r} (first defined on line {first})",
                                  *key_pos, sub)
            self.record(sub, key_pos, key=True)
            out[key], n = self.node(self.next(), sub, depth + 1)
            size += n
        for source in merged:  # explicit keys win, then earlier merges
            for key, value in source.items():
                out.setdefault(key, value)
        for rel, is_key, where in merged_positions:  # after the explicit keys' positions
            self.record((*loc, *rel), where, key=is_key)
        return out, size

    def key(self, event: Any, loc: Loc, pos: Pos) -> str | None:
        """The key's text, or None for the merge key ``<<``."""
        if not isinstance(event, yaml.ScalarEvent):
            what = "an alias" if isinstance(event, yaml.AliasEvent) else "a list or mapping"
            raise YamlProblem(f"a mapping key must be a plain string, not {what}", *pos, loc)
        tag = event.tag
        if tag is not None and tag != "!" and tag not in EXPLICIT_SCALAR_TAGS:
            raise YamlProblem(f"unsupported YAML tag {short_tag(tag)!r} on a key", *pos, loc)
        if tag is None and event.value == "<<" and event.implicit[0]:  # plain "<<": merge
            return None
        return str(event.value)

    def merge(self, loc: Loc, depth: int, sources: list[dict[str, Any]],
              positions: list[tuple[Loc, bool, Pos]]) -> int:
        """Build the mapping(s) of a ``<<`` value into ``sources``; their positions go to
        ``positions`` (relative to ``loc``), applied once the explicit keys are known.

        Returns:
            The nodes built or aliased.
        """
        base = (*loc, _MERGED)
        self.recorders.append((base, positions))
        try:
            event = self.next()
            if not isinstance(event, yaml.SequenceStartEvent):
                return self.merge_source(event, base, depth, sources)
            size = 0
            while not isinstance(event := self.next(), yaml.SequenceEndEvent):
                size += self.merge_source(event, base, depth + 1, sources)
            return size
        finally:
            self.recorders.pop()

    def merge_source(self, event: Any, base: Loc, depth: int,
                     sources: list[dict[str, Any]]) -> int:
        pos = _pos(event)
        if not isinstance(event, yaml.AliasEvent | yaml.MappingStartEvent):
            raise YamlProblem("'<<' merges only mappings (a mapping, an alias of one, or a "
                              "list of them)", *pos, base[:-1])
        value, size = self.node(event, base, depth + 1)
        if not isinstance(value, dict):
            raise YamlProblem("'<<' merges only mappings (a mapping, an alias of one, or a "
                              "list of them)", *pos, base[:-1])
        sources.append(value)
        return size
