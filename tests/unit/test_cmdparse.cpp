// The parser of debugger command lines (REPL and gdb's monitor).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "coremu/cmdparse.h"

using coremu::ExprLookup;
using coremu::XFormat;

namespace {

std::vector<std::string> toks(const std::string& line) {
  std::string err;
  auto w = coremu::tokenize(line, err);
  EXPECT_TRUE(w.has_value()) << line << ": " << err;
  return w.value_or(std::vector<std::string>{});
}

}  // namespace

TEST(CmdParse, TokenizeWords) {
  EXPECT_EQ(toks("  info   harts "), (std::vector<std::string>{"info", "harts"}));
  EXPECT_EQ(toks(""), std::vector<std::string>{});
  EXPECT_EQ(toks("x/4xg counters 2"), (std::vector<std::string>{"x/4xg", "counters", "2"}));
  EXPECT_EQ(toks("break main # a comment"), (std::vector<std::string>{"break", "main"}));
  EXPECT_EQ(toks("# only a comment"), std::vector<std::string>{});
  EXPECT_EQ(toks("a#b"), (std::vector<std::string>{"a#b"}));
}

TEST(CmdParse, TokenizeQuotesAndEscapes) {
  EXPECT_EQ(toks(R"(uart "hello world\n")"), (std::vector<std::string>{"uart", "hello world\n"}));
  EXPECT_EQ(toks(R"(uart "a\"b\\c\t\x41\101\0z")"),
            (std::vector<std::string>{"uart", std::string("a\"b\\c\tAA\0z", 10)}));
  EXPECT_EQ(toks(R"(uart pre"mid dle"post)"), (std::vector<std::string>{"uart", "premid dlepost"}));
  EXPECT_EQ(toks(R"(uart "")"), (std::vector<std::string>{"uart", ""}));
  EXPECT_EQ(toks(R"(uart "# not a comment")"), (std::vector<std::string>{"uart", "# not a comment"}));
}

TEST(CmdParse, TokenizeErrors) {
  std::string err;
  EXPECT_FALSE(coremu::tokenize(R"(uart "abc)", err));
  EXPECT_NE(err.find("unterminated"), std::string::npos);
  EXPECT_FALSE(coremu::tokenize(R"(uart "\q")", err));
  EXPECT_NE(err.find("\\q"), std::string::npos);
  EXPECT_FALSE(coremu::tokenize(R"(uart "\x")", err));
  EXPECT_FALSE(coremu::tokenize(R"(uart "\777")", err));
  EXPECT_FALSE(coremu::tokenize(R"(uart "abc\")", err));  // the quote is escaped
}

TEST(CmdParse, Numbers) {
  EXPECT_EQ(coremu::parse_number("0"), 0u);
  EXPECT_EQ(coremu::parse_number("42"), 42u);
  EXPECT_EQ(coremu::parse_number("0x80000000"), 0x80000000u);
  EXPECT_EQ(coremu::parse_number("0XfF"), 255u);
  EXPECT_EQ(coremu::parse_number("0b101"), 5u);
  EXPECT_EQ(coremu::parse_number("0o17"), 15u);
  EXPECT_EQ(coremu::parse_number("1_000"), 1000u);
  EXPECT_EQ(coremu::parse_number("-1"), UINT64_MAX);
  EXPECT_EQ(coremu::parse_number("0xffffffffffffffff"), UINT64_MAX);
  for (const char* bad : {"", "-", "0x", "12x", "x12", "0x1g", "18446744073709551616", "0x10000000000000000", "_1",
                          "1_", "0b102", " 1", "1 "})
    EXPECT_FALSE(coremu::parse_number(bad).has_value()) << bad;
}

TEST(CmdParse, XFormat) {
  XFormat f;
  std::string err;
  ASSERT_TRUE(coremu::parse_xformat("", f, err));
  EXPECT_EQ(f.count, 1u);
  EXPECT_EQ(f.format, 'x');
  EXPECT_EQ(f.size, 4u);
  ASSERT_TRUE(coremu::parse_xformat("4xg", f, err));
  EXPECT_EQ(f.count, 4u);
  EXPECT_EQ(f.size, 8u);
  ASSERT_TRUE(coremu::parse_xformat("gx", f, err));
  EXPECT_EQ(f.size, 8u);
  ASSERT_TRUE(coremu::parse_xformat("10i", f, err));
  EXPECT_EQ(f.count, 10u);
  EXPECT_EQ(f.format, 'i');
  ASSERT_TRUE(coremu::parse_xformat("8c", f, err));
  EXPECT_EQ(f.size, 1u);  // c defaults to bytes
  ASSERT_TRUE(coremu::parse_xformat("2dh", f, err));
  EXPECT_EQ(f.format, 'd');
  EXPECT_EQ(f.size, 2u);
  ASSERT_TRUE(coremu::parse_xformat("s", f, err));
  EXPECT_EQ(f.format, 's');
  for (const char* bad : {"q", "4xq", "0x", "xx", "bw", "4x4", "9999999x"})
    EXPECT_FALSE(coremu::parse_xformat(bad, f, err)) << bad;
}

TEST(CmdParse, Expressions) {
  ExprLookup lk;
  lk.symbol = [](std::string_view n) -> std::optional<uint64_t> {
    if (n == "main") return 0x80000100;
    if (n == "foo.part.0") return 0x80000200;
    return std::nullopt;
  };
  lk.reg = [](std::string_view n) -> std::optional<uint64_t> {
    if (n == "pc") return 0x80000010;
    if (n == "sp") return 0x80008000;
    return std::nullopt;
  };
  std::string err;
  EXPECT_EQ(coremu::parse_expr("0x1000", lk, err), 0x1000u);
  EXPECT_EQ(coremu::parse_expr("main", lk, err), 0x80000100u);
  EXPECT_EQ(coremu::parse_expr("main+0x10", lk, err), 0x80000110u);
  EXPECT_EQ(coremu::parse_expr("main+16-4", lk, err), 0x8000010cu);
  EXPECT_EQ(coremu::parse_expr("foo.part.0+2", lk, err), 0x80000202u);
  EXPECT_EQ(coremu::parse_expr("$sp-16", lk, err), 0x80007ff0u);
  EXPECT_EQ(coremu::parse_expr("$pc", lk, err), 0x80000010u);
  EXPECT_EQ(coremu::parse_expr("-8", lk, err), UINT64_MAX - 7);
  EXPECT_FALSE(coremu::parse_expr("nosuch", lk, err));
  EXPECT_EQ(err, "no symbol 'nosuch'");
  EXPECT_FALSE(coremu::parse_expr("$zz", lk, err));
  EXPECT_EQ(err, "no register '$zz'");
  EXPECT_FALSE(coremu::parse_expr("12q", lk, err));
  EXPECT_EQ(err, "bad number '12q'");
  for (const char* bad : {"", "main+", "+4", "main++4", "$"}) EXPECT_FALSE(coremu::parse_expr(bad, lk, err)) << bad;
}
