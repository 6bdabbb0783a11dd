"""Text -> `nodes.Expr`, or a `SegmentError` that says where and what was expected.

Rules decided here (see also `revsync.segments.sql` for what they mean):

- A word that is a plain decimal (`50`, `-4.50`: optional minus, digits, optional
  fraction; at most 18 digits on each side of the point) is a number; any other word
  (`customer`, `past-due`, `saas.yearly`, `3d`) is text, like a quoted string.
  Quoted strings use '..' or ".." with escapes \\ \" \' \n \t \r.
- `mrr`, `ltv` and the engagement counts compare with numbers only; `tag` takes only
  `=` and `!=` and text (a number-looking word is the tag's text, e.g. `tag = 2024`).
- Attribute names start with a letter or `_`.
- At most MAX_LENGTH characters and MAX_DEPTH nested levels (parentheses, NOT,
  AND/OR chains), so parsing, compiling and the database's own parser stay bounded;
  and at most the deployment's number of comparisons that run a subquery per
  subscriber (`revsync.segments.limits`), so running it stays bounded too.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from revsync.segments import attributes, limits
from revsync.segments.attributes import Kind
from revsync.segments.errors import SegmentError
from revsync.segments.grammar import parser
from revsync.segments.nodes import OPERATORS, And, Comparison, Expr, Not, Number, Op, Or, Text

MAX_LENGTH = 2000
MAX_DEPTH = 32
MAX_DIGITS = 18

DECIMAL = re.compile(r"-?([0-9]+)(?:\.([0-9]+))?")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t", "r": "\r"}
OPERATOR_WORDS = "= != > >= < <="
VALUE_WORDS = "number, quoted string or word"


def parse(text: str, max_subqueries: int | None = None) -> Expr:
    """Parse an expression; every failure is a SegmentError with a 1-based position.
    `max_subqueries`: the deployment's cap unless given."""
    if len(text) > MAX_LENGTH:
        raise SegmentError(MAX_LENGTH + 1, f"the expression is longer than {MAX_LENGTH} "
                           f"characters ({len(text)})")
    _check_characters(text)
    tree = _tree(text)
    _check_depth(tree)
    expr = _convert(tree)
    _check_cost(tree, limits.max_subqueries() if max_subqueries is None else max_subqueries)
    return expr


def _check_characters(text: str) -> None:
    """Control characters (other than tab and newlines) and lone surrogates cannot be
    stored as text by PostgreSQL; refuse them here rather than fail later."""
    for index, char in enumerate(text):
        if char not in "\t\n\r" and unicodedata.category(char) in ("Cc", "Cs"):
            raise SegmentError(index + 1, f"control character U+{ord(char):04X} is not "
                               "allowed", found=f"U+{ord(char):04X}",
                               expected="printable text")


def _tree(text: str) -> Tree[Token]:
    interactive = parser().parse_interactive(text)
    fed: list[Token] = []
    try:
        for token in interactive.iter_parse():
            fed.append(token)
        result: Tree[Token] | Token = interactive.feed_eof()  # type: ignore[no-untyped-call]
    except UnexpectedInput as error:
        # The parse table's choices, not the lexer's allowed set (that one also lists
        # the reserved keywords everywhere).
        choices = set(interactive.choices())  # type: ignore[no-untyped-call]
        raise _syntax_error(text, error, fed, choices) from None
    if isinstance(result, Token):  # cannot happen: the grammar has no bare-token start
        raise SegmentError(1, "expected a condition")
    return result


def _syntax_error(text: str, error: UnexpectedInput, fed: list[Token],
                  expected: set[str]) -> SegmentError:
    if isinstance(error, UnexpectedToken):
        token = error.token
        if fed and fed[-1] is token:
            fed = fed[:-1]  # the parser refused the token it was fed
        if token.type == "$END":
            position, found, shown = len(text) + 1, None, "end of input"
        else:
            position, found = (token.start_pos or 0) + 1, str(token)
            shown = _quote(found)
    elif isinstance(error, UnexpectedCharacters):
        position, found = (error.pos_in_stream or 0) + 1, error.char
        if found in "\"'":
            return SegmentError(position, "this quoted string is never closed "
                                f"(add the closing {found})", found=found,
                                expected=f"closing {found}")
        shown = _quote(found)
    else:  # pragma: no cover - LALR raises only the two above
        return SegmentError(1, str(error))
    words = _expected(expected, fed)
    return SegmentError(position, f"expected {words}, found {shown}", found=found,
                        expected=words)


def _expected(expected: set[str], fed: list[Token]) -> str:
    """Plain words for the terminals the parser would have accepted."""
    after = f" after {_quote(str(fed[-1]))}" if fed else ""
    if "OPERATOR" in expected:
        return f"a comparison operator ({OPERATOR_WORDS}){after}"
    if "STRING" in expected:
        return f"a value{after} ({VALUE_WORDS})"
    if "NOT" in expected or "LPAR" in expected:
        return f"a condition (like mrr >= 50), NOT or '('{after}"
    depth = sum(1 if t.type == "LPAR" else -1 if t.type == "RPAR" else 0 for t in fed)
    closing = ["')'"] if depth > 0 else []
    ending = [] if depth > 0 else ["end of input"]
    options = ["AND", "OR", *closing, *ending]
    return ", ".join(options[:-1]) + " or " + options[-1]


def _quote(value: str) -> str:
    shown = value if len(value) <= 40 else value[:37] + "..."
    return "'" + shown + "'"


def _check_depth(tree: Tree[Token]) -> None:
    """Iterative, so a 1,000-deep input fails cleanly instead of exhausting the stack."""
    stack: list[tuple[Tree[Token], int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if node.data == "comparison":
            continue
        if depth > MAX_DEPTH:
            first = next(node.scan_values(lambda v: isinstance(v, Token)))
            raise SegmentError((first.start_pos or 0) + 1, f"nested more than {MAX_DEPTH} "
                               "levels deep (parentheses, NOT, AND/OR); simplify the "
                               "expression", found=str(first))
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, Tree))


def _check_cost(tree: Tree[Token], cap: int) -> None:
    """Refuse the first comparison past the cap, in reading order."""
    used = 0
    for node in tree.iter_subtrees_topdown():  # type: ignore[no-untyped-call]
        if node.data != "comparison":
            continue
        name, op, value = node.children
        assert isinstance(name, Token) and isinstance(op, Token) and isinstance(value, Token)
        if not limits.runs_subquery(_comparison(name, op, value)):
            continue
        used += 1
        if used > cap:
            raise SegmentError(_pos(name), f"more than {cap} conditions on engagement "
                               "counts or on tags other than the Stripe-managed ones; each "
                               "is a subquery per subscriber, and a segment may run at most "
                               f"{cap} (REVSYNC_SEGMENT_MAX_SUBQUERIES)", found=str(name),
                               expected=f"at most {cap} such conditions")


def _convert(node: Tree[Token]) -> Expr:
    """Depth is bounded by `_check_depth`, so recursion is safe here."""
    subtrees = [c for c in node.children if isinstance(c, Tree)]
    if node.data == "comparison":
        name, op, value = node.children
        assert isinstance(name, Token) and isinstance(op, Token) and isinstance(value, Token)
        return _comparison(name, op, value)
    if node.data == "group":
        return _convert(subtrees[0])
    if node.data == "negation":
        return Not(_convert(subtrees[0]))
    operands = tuple(_convert(child) for child in subtrees)
    return And(operands) if node.data == "and_expr" else Or(operands)


def _comparison(name: Token, op_token: Token, value_token: Token) -> Comparison:
    if not NAME.fullmatch(name):
        raise SegmentError(_pos(name), f"expected an attribute name (like mrr, tag or a "
                           f"metadata key), found {_quote(name)}", found=str(name),
                           expected="an attribute name")
    op = _operator(op_token)
    attribute = attributes.canonical(str(name))
    kind = attributes.kind(attribute)
    value = _value(value_token, kind)
    if kind is Kind.TAG and op not in ("=", "!="):
        raise SegmentError(_pos(op_token), f"tag takes = (has the tag) or != (does not "
                           f"have it), not {_quote(op)}", found=op, expected="= or !=")
    if kind is not Kind.METADATA and kind is not Kind.TAG and not isinstance(value, Number):
        raise SegmentError(_pos(value_token), f"{attribute} is compared with a number, "
                           f"found {_quote(str(value_token))}", found=str(value_token),
                           expected="a number")
    return Comparison(attribute, op, value)


def _operator(token: Token) -> Op:
    for op in OPERATORS:
        if token == op:
            return op
    raise SegmentError(_pos(token), f"unknown operator {_quote(token)}; use one of "
                       f"{OPERATOR_WORDS}", found=str(token), expected="a comparison operator")


def _value(token: Token, kind: Kind) -> Number | Text:
    if token.type == "STRING":
        return Text(_unescape(token))
    match = DECIMAL.fullmatch(token)
    if match is None or kind is Kind.TAG:
        return Text(str(token))
    whole, fraction = match.group(1), match.group(2) or ""
    if len(whole) > MAX_DIGITS or len(fraction) > MAX_DIGITS:
        raise SegmentError(_pos(token), f"numbers have at most {MAX_DIGITS} digits before "
                           f"and after the point; quote it to compare as text",
                           found=str(token), expected="a shorter number")
    return Number(Decimal(str(token)))


def _unescape(token: Token) -> str:
    body, out, index = str(token)[1:-1], [], 0
    while index < len(body):
        char = body[index]
        if char == "\\":
            escaped = body[index + 1]  # the lexer guarantees a character follows
            if escaped not in ESCAPES:
                raise SegmentError(_pos(token) + 1 + index, f"unknown escape '\\{escaped}' in "
                                   "a quoted string; use \\\\ \\\" \\' \\n \\t or \\r",
                                   found="\\" + escaped, expected="a known escape")
            out.append(ESCAPES[escaped])
            index += 2
        else:
            out.append(char)
            index += 1
    return "".join(out)


def _pos(token: Token) -> int:
    return (token.start_pos or 0) + 1
