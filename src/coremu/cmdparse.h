// Parsing of debugger command lines (the REPL and gdb's `monitor`): words,
// quoted strings with C escapes, numbers, x/NFU formats and address
// expressions. Pure functions, no machine: unit-tested on their own.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coremu {

// Splits a command line into words at blanks. A word in double quotes may
// hold blanks and C escapes (\n \r \t \0 \a \b \e \f \v \\ \" \xHH \NNN
// octal). A '#' at the start of a word begins a comment. nullopt (and
// `err`) on an unterminated quote or a bad escape.
std::optional<std::vector<std::string>> tokenize(std::string_view line, std::string& err);

// Decodes C escapes in `in` (no quotes). False (and `err`) on a bad escape.
bool unescape(std::string_view in, std::string& out, std::string& err);

// An unsigned number: decimal, 0x hex, 0o octal or 0b binary; '_' may
// separate digits. A leading '-' gives the two's complement. nullopt on
// anything else (trailing garbage, overflow).
std::optional<uint64_t> parse_number(std::string_view s);

// x/NFU: N count (default 1), F format x d u c s i (default x), U size
// b h w g (default w; c defaults to b). Letters in any order after N.
struct XFormat {
  uint64_t count = 1;
  char format = 'x';
  unsigned size = 4;
};
// `spec` is the text after the '/' ("" for none). False (and `err`) if bad.
bool parse_xformat(std::string_view spec, XFormat& f, std::string& err);

// An address expression: TERM {(+|-) TERM}, a TERM being a number, an ELF
// symbol or $REG (a register of the hart the command is about). The
// lookups return nullopt for an unknown name.
struct ExprLookup {
  std::function<std::optional<uint64_t>(std::string_view)> symbol;
  std::function<std::optional<uint64_t>(std::string_view)> reg;
};
std::optional<uint64_t> parse_expr(std::string_view s, const ExprLookup& lookup, std::string& err);

}  // namespace coremu
