"""Processing rules: LIST rules whose files are handed to Python functions.

``ListProcessingRule(listname, processor)``: ``processor(files)`` gets an iterator over every
file the rule matched and its return value becomes ``ManagementPolicy.run(...)[listname]``.
The drivers only gather the file lists; the records of all buckets are parsed and handed to
the processor in one call, in the calling process, after ``mmapplypolicy`` finished (so the
processor sees every file at once, in order, and may keep state as it likes).

``MapReduceRule(name, mapfn, reducefn=None, combinefn=None, initial=None, output=None)``:
``mapfn(file)`` runs in the drivers, bucket by bucket, in parallel (up to ``-m`` per node,
possibly on many nodes). ``combinefn(acc, mapped)`` folds each worker's mapped values into
an accumulator started from a copy of ``initial`` (from the first mapped value when there is
no ``initial``); without ``combinefn``, ``reducefn`` folds them. In the calling process
``reducefn(a, b)`` merges the partial results (without it they are added with ``+``), and
``output(result)`` post-processes the final value. Without ``combinefn`` and ``reducefn``
the result is the list of mapped values, all buckets concatenated. Functions travel with
cloudpickle: lambdas, closures and bound methods work.

Both compile to a pair of real rules::

    RULE EXTERNAL LIST '<id>' EXEC '<work dir>/driver' OPTS '<work dir> <id>'
    RULE '<id>' LIST '<id>' [DIRECTORIES_PLUS] ... SHOW(<layout>) [WHERE ...]

SHOW: by default every attribute ``stat`` gives (see
:data:`gpfskit.policy.attributes.DEFAULT_SHOW`); ``show_attributes('FILE_SIZE', ...)``
restricts it to what the functions read (the scan then writes and the drivers parse less),
``show_performance()`` drops it (files then carry path, name, inode, generation and snapshot
id only), and ``show='<SQL>'`` appends custom text whose ``key=value`` pairs become
attributes. Files come in inode order unless ``sort=`` says otherwise: an attribute name
(``'-size'`` for descending), any SQL expression (``'CURRENT_TIMESTAMP -
MODIFICATION_TIME'``, evaluated by the policy engine and carried in the SHOW text), a key
function of the file, or ``False`` for list order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gpfskit.language import (
    Attribute,
    Case,
    Expr,
    Function,
    IsNull,
    Literal,
    PolicySyntaxError,
    RuleKind,
    parse_expression,
)
from gpfskit.language import Rule as SyntaxRule
from gpfskit.policy.attributes import DEFAULT_SHOW, RECORD_FIELDS
from gpfskit.policy.filelist import SEPARATOR, FileList, Layout, sort_attribute
from gpfskit.policy.rule import (
    SELECTING_OPTIONS,
    SelectingRule,
    concat,
    show_attribute_names,
    show_builder,
    show_items,
)
from gpfskit.policy.workspace import GATHER, MAPREDUCE, Functions, Workspace, merge_partials


class ProcessingRule(SelectingRule):
    """Common part of ListProcessingRule and MapReduceRule."""

    kind = RuleKind.LIST
    options = (*(o for o in SELECTING_OPTIONS if o != "show"), "directories_plus")
    mode = GATHER

    def __init__(self, name: str, criteria: Any = None, show: Any = None, sort: Any = None,
                 **options: Any) -> None:
        self.show_fields: tuple[str, ...] = DEFAULT_SHOW
        self.show_custom: tuple[Expr, ...] = ()
        self.sort = _checked_sort(sort)
        super().__init__(name, criteria, **options)
        if show is not None:
            self.change(show=show)

    @property
    def key(self) -> str:
        """The key of this rule's result in ``ManagementPolicy.run()``."""
        return self.id

    # -- options ----------------------------------------------------------------------------
    def change(self, **options: Any) -> ProcessingRule:
        if "sort" in options:
            self.sort = _checked_sort(options.pop("sort"))
        if "show" in options:
            show = options.pop("show")
            if show is None:
                self.show_fields, self.show_custom = DEFAULT_SHOW, ()
            elif isinstance(show, str):
                self.show_custom = show_items(show)
            elif isinstance(show, Expr):
                self.show_custom = (show,)
            elif isinstance(show, ProcessingRule):   # show=r.show_performance(): as that rule
                self.show_fields, self.show_custom = show.show_fields, show.show_custom
            else:
                self.show_fields = _fields(show)
                self.show_custom = ()
        super().change(**options)
        return self

    @show_builder
    def show_attributes(cls, *names: str) -> Any:
        """SHOW just these attributes (path, name, inode and generation are always there)."""
        return _fields(names)

    @show_builder
    def show_performance(cls) -> Any:
        """No SHOW clause: the fastest scan; files carry path, name, inode and generation."""
        return ()

    @property
    def layout(self) -> Layout:
        return Layout(self.show_fields, bool(self.show_custom),
                      sort=self._sort_expression() is not None)

    def _sort_expression(self) -> Expr | None:
        """What the policy engine computes for ``sort=``, when the SHOW fields lack it."""
        if not isinstance(self.sort, str):
            return None
        attribute = sort_attribute(self.sort)
        if attribute in RECORD_FIELDS or attribute in self.show_fields:
            return None
        return Attribute(attribute) if attribute is not None else parse_expression(self.sort)

    def _show_expression(self) -> Expr | None:
        items: list[Expr] = []
        for index, name in enumerate(self.show_fields):
            if index:
                items.append(Literal(SEPARATOR))
            items.append(Attribute(name))
        sort = self._sort_expression()
        if sort is not None:
            if items:
                items.append(Literal(SEPARATOR))
            # NULL would blank the whole SHOW text: an empty key instead (sorted last)
            items.append(Case(((IsNull(sort), Literal("")),), Function("VARCHAR", (sort,))))
        if self.show_custom:
            if items:
                items.append(Literal(SEPARATOR))
            items.extend(self.show_custom)
        return concat(items) if items else None

    # -- policy text ------------------------------------------------------------------------
    def to_ast(self) -> SyntaxRule:
        show = self._show_expression()
        fields = dict(self._fields)
        return SyntaxRule(kind=RuleKind.LIST, name=self.id, list_name=self.id,
                          where=self.criteria.expression(),
                          show=(show,) if show is not None else None, **fields)

    def external(self, workspace: Workspace | None = None) -> SyntaxRule:
        """The EXTERNAL LIST rule (``EXEC ''`` without a work directory)."""
        if workspace is None:
            return SyntaxRule(kind=RuleKind.EXTERNAL_LIST, list_name=self.id, exec_="")
        return SyntaxRule(kind=RuleKind.EXTERNAL_LIST, list_name=self.id,
                          exec_=workspace.wrapper, opts=workspace.opts(self.id))

    def policy_rules(self) -> list[SyntaxRule]:
        return [self.external(), self.to_ast()]

    # -- running ----------------------------------------------------------------------------
    def prepare(self, workspace: Workspace, timeout: float | None = None) -> None:
        """Register the rule in a run's work directory."""
        workspace.add_rule(self.id, self.mode, self.layout, self._functions(), timeout)

    def _functions(self) -> Functions | None:
        return None

    def finish(self, workspace: Workspace) -> Any:
        """The rule's result from what the drivers left in the work directory."""
        raise NotImplementedError

    def empty_result(self) -> Any:
        """The result when no file reached the rule (dry run, test or defer runs)."""
        raise NotImplementedError


def _checked_sort(sort: Any) -> Any:
    """``sort`` as given, once a string that names no attribute parses as SQL."""
    if isinstance(sort, str) and sort_attribute(sort) is None:
        try:
            parse_expression(sort)
        except PolicySyntaxError as exc:
            raise ValueError(f"sort={sort!r} is neither an attribute nor an SQL expression: "
                             f"{exc}") from None
    elif not (sort is None or sort is False or callable(sort) or isinstance(sort, str)):
        raise TypeError(f"sort= takes an attribute name, an SQL expression, a key function "
                        f"or False, not {sort!r}")
    return sort


def _fields(names: Any) -> tuple[str, ...]:
    if isinstance(names, str):
        names = (names,)
    return tuple(n for n in show_attribute_names(names) if n not in RECORD_FIELDS)


class ListProcessingRule(ProcessingRule):
    """``processor(files)`` over every matched file; see the module docstring."""

    def __init__(self, listname: str, processor: Callable[[Any], Any],
                 directories_plus: bool = False, show: Any = None, sort: Any = None,
                 name: str | None = None, criteria: Any = None, **options: Any) -> None:
        if not callable(processor):
            raise TypeError("a ListProcessingRule needs a callable processor")
        self.listname = listname
        self.processor = processor
        super().__init__(name if name is not None else listname, criteria, show=show,
                         sort=sort, directories_plus=directories_plus, **options)

    @property
    def key(self) -> str:
        return self.listname

    def finish(self, workspace: Workspace) -> Any:
        files = FileList.from_files(workspace.gathered_lists(self.id), self.layout)
        return self.processor(Files(files.files(files.order(self.sort)), len(files)))

    def empty_result(self) -> Any:
        return self.processor(Files(iter(()), 0))


class Files:
    """The iterator a processor gets; ``len()`` tells how many files it yields in all."""

    __slots__ = ("_count", "_iterator")

    def __init__(self, iterator: Any, count: int) -> None:
        self._iterator = iterator
        self._count = count

    def __iter__(self) -> Any:
        return self._iterator

    def __next__(self) -> Any:
        return next(self._iterator)

    def __len__(self) -> int:
        return self._count


class MapReduceRule(ProcessingRule):
    """``mapfn`` per file in the drivers, then combine/reduce; see the module docstring."""

    mode = MAPREDUCE

    def __init__(self, name: str, mapfn: Callable[[Any], Any],
                 reducefn: Callable[[Any, Any], Any] | None = None,
                 combinefn: Callable[[Any, Any], Any] | None = None, initial: Any = None,
                 output: Callable[[Any], Any] | None = None, directories_plus: bool = False,
                 show: Any = None, sort: Any = None, criteria: Any = None,
                 **options: Any) -> None:
        for what, fn in (("mapfn", mapfn), ("reducefn", reducefn), ("combinefn", combinefn),
                         ("output", output)):
            if fn is not None and not callable(fn):
                raise TypeError(f"{what} must be callable")
        if mapfn is None:
            raise TypeError("a MapReduceRule needs a mapfn")
        self.mapfn = mapfn
        self.reducefn = reducefn
        self.combinefn = combinefn
        self.initial = initial
        self.output = output
        super().__init__(name, criteria, show=show, sort=sort,
                         directories_plus=directories_plus, **options)

    def _functions(self) -> Functions:
        return Functions(self.mapfn, self.combinefn, self.reducefn, self.initial,
                         self.initial is not None, self.sort)

    def _finish(self, partials: list) -> Any:
        result = merge_partials(self._functions(), partials)
        return self.output(result) if self.output is not None else result

    def finish(self, workspace: Workspace) -> Any:
        return self._finish(workspace.partials(self.id))

    def empty_result(self) -> Any:
        return self._finish([])
