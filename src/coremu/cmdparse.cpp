#include "coremu/cmdparse.h"

#include <fmt/core.h>

namespace coremu {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool unescape(std::string_view in, std::string& out, std::string& err) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i == in.size()) {
      err = "a '\\' ends the string";
      return false;
    }
    char e = in[i];
    switch (e) {
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'e': out += '\x1b'; break;
      case 'f': out += '\f'; break;
      case 'v': out += '\v'; break;
      case '\\': out += '\\'; break;
      case '"': out += '"'; break;
      case '\'': out += '\''; break;
      case 'x': {
        int v = 0, n = 0;
        while (n < 2 && i + 1 < in.size() && hex_digit(in[i + 1]) >= 0) v = v * 16 + hex_digit(in[++i]), ++n;
        if (n == 0) {
          err = "\\x needs hex digits";
          return false;
        }
        out += static_cast<char>(v);
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          int v = e - '0', n = 1;
          while (n < 3 && i + 1 < in.size() && in[i + 1] >= '0' && in[i + 1] <= '7') v = v * 8 + (in[++i] - '0'), ++n;
          if (v > 255) {
            err = "octal escape above \\377";
            return false;
          }
          out += static_cast<char>(v);
          break;
        }
        err = fmt::format("unknown escape '\\{}'", e);
        return false;
    }
  }
  return true;
}

std::optional<std::vector<std::string>> tokenize(std::string_view line, std::string& err) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < line.size()) {
    if (is_blank(line[i])) {
      ++i;
      continue;
    }
    if (line[i] == '#') break;
    std::string word;
    while (i < line.size() && !is_blank(line[i])) {
      if (line[i] != '"') {
        word += line[i++];
        continue;
      }
      // A quoted part: up to the closing quote that is not escaped.
      size_t j = ++i;
      while (j < line.size() && line[j] != '"') j += line[j] == '\\' ? 2 : 1;
      if (j >= line.size()) {
        err = "unterminated string (a '\"' is missing)";
        return std::nullopt;
      }
      std::string part;
      if (!unescape(line.substr(i, j - i), part, err)) return std::nullopt;
      word += part;
      i = j + 1;
    }
    words.push_back(std::move(word));
  }
  return words;
}

std::optional<uint64_t> parse_number(std::string_view s) {
  bool neg = false;
  if (!s.empty() && s[0] == '-') {
    neg = true;
    s.remove_prefix(1);
  }
  unsigned base = 10;
  if (s.size() > 2 && s[0] == '0') {
    char p = s[1];
    if (p == 'x' || p == 'X') base = 16;
    else if (p == 'o' || p == 'O') base = 8;
    else if (p == 'b' || p == 'B') base = 2;
    if (base != 10) s.remove_prefix(2);
  }
  if (s.empty() || s.front() == '_' || s.back() == '_') return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c == '_') continue;
    int d = hex_digit(c);
    if (d < 0 || static_cast<unsigned>(d) >= base) return std::nullopt;
    if (v > (UINT64_MAX - static_cast<uint64_t>(d)) / base) return std::nullopt;
    v = v * base + static_cast<uint64_t>(d);
  }
  return neg ? 0 - v : v;
}

bool parse_xformat(std::string_view spec, XFormat& f, std::string& err) {
  f = XFormat{};
  size_t i = 0;
  while (i < spec.size() && spec[i] >= '0' && spec[i] <= '9') ++i;
  if (i > 0) {
    auto n = parse_number(spec.substr(0, i));
    if (!n || *n == 0 || *n > 1'000'000) {
      err = fmt::format("bad count '{}' (1 to 1000000)", spec.substr(0, i));
      return false;
    }
    f.count = *n;
  }
  bool have_size = false, have_format = false;
  for (; i < spec.size(); ++i) {
    char c = spec[i];
    switch (c) {
      case 'b': case 'h': case 'w': case 'g':
        if (have_size) {
          err = "two sizes in the format";
          return false;
        }
        have_size = true;
        f.size = c == 'b' ? 1 : c == 'h' ? 2 : c == 'w' ? 4 : 8;
        break;
      case 'x': case 'd': case 'u': case 'c': case 's': case 'i':
        if (have_format) {
          err = "two formats in the format";
          return false;
        }
        have_format = true;
        f.format = c;
        break;
      default:
        err = fmt::format("bad format letter '{}' (count, then x d u c s i and b h w g)", c);
        return false;
    }
  }
  if (f.format == 'c' && !have_size) f.size = 1;
  return true;
}

std::optional<uint64_t> parse_expr(std::string_view s, const ExprLookup& lookup, std::string& err) {
  if (s.empty()) {
    err = "empty address";
    return std::nullopt;
  }
  uint64_t total = 0;
  bool negate = false;
  size_t i = 0;
  for (;;) {
    size_t j = i;
    while (j < s.size() && s[j] != '+' && (s[j] != '-' || j == i)) ++j;
    std::string_view term = s.substr(i, j - i);
    std::optional<uint64_t> v;
    if (term.empty()) {
      err = fmt::format("bad address '{}'", s);
      return std::nullopt;
    }
    if (term[0] == '$') {
      v = lookup.reg ? lookup.reg(term.substr(1)) : std::nullopt;
      if (!v) {
        err = fmt::format("no register '{}'", term);
        return std::nullopt;
      }
    } else if ((term[0] >= '0' && term[0] <= '9') || term[0] == '-') {
      v = parse_number(term);
      if (!v) {
        err = fmt::format("bad number '{}'", term);
        return std::nullopt;
      }
    } else {
      v = lookup.symbol ? lookup.symbol(term) : std::nullopt;
      if (!v) {
        err = fmt::format("no symbol '{}'", term);
        return std::nullopt;
      }
    }
    total = negate ? total - *v : total + *v;
    if (j >= s.size()) break;
    negate = s[j] == '-';
    i = j + 1;
    if (i >= s.size()) {
      err = fmt::format("bad address '{}'", s);
      return std::nullopt;
    }
  }
  return total;
}

}  // namespace coremu
