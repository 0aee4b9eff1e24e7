// Where the REPL's lines come from: readline on a terminal, plain lines
// from a pipe or file.
#include <readline/history.h>
#include <readline/readline.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <set>

#include "repl.h"

namespace repl {

namespace {

class PlainSource final : public LineSource {
 public:
  std::optional<std::string> next() override {
    std::string line;
    if (!std::getline(std::cin, line)) return std::nullopt;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
};

// Completion candidates for the word being typed (readline calls the
// generator with state 0 first, then until it returns nullptr).
Repl* g_repl = nullptr;
std::vector<std::string> g_candidates;
size_t g_next = 0;

char* generator(const char* text, int state) {
  if (state == 0) g_next = 0;
  size_t n = std::strlen(text);
  while (g_next < g_candidates.size()) {
    const std::string& c = g_candidates[g_next++];
    if (c.compare(0, n, text) == 0) return strdup(c.c_str());
  }
  return nullptr;
}

char** complete(const char* text, int start, int) {
  rl_attempted_completion_over = 1;  // no file names
  std::set<std::string> words;
  std::string before(rl_line_buffer, static_cast<size_t>(start));
  // The words typed before this one.
  std::vector<std::string> prev;
  for (size_t i = 0; i < before.size();) {
    size_t j = before.find_first_of(" \t", i);
    if (j == std::string::npos) j = before.size();
    if (j > i) prev.push_back(before.substr(i, j - i));
    i = j + 1;
  }
  auto& table = g_repl->table();
  if (prev.empty()) {
    for (const auto& c : table.commands()) {
      words.insert(c.name.substr(0, c.name.find(' ')));
      for (const auto& a : c.aliases)
        if (a.find(' ') == std::string::npos) words.insert(a);
    }
  } else {
    // Second words of two-word commands ("info harts").
    for (const auto& c : table.commands())
      if (prev.size() == 1 && c.name.rfind(prev[0] + " ", 0) == 0) words.insert(c.name.substr(prev[0].size() + 1));
    if (prev[0] == "watch" && prev.size() == 1) words.insert({"r", "w", "rw"});
    auto& d = g_repl->debugger();
    for (const auto& [name, addr] : d.machine().symbols().by_name) words.insert(name);
    for (unsigned i = 0; i < d.num_harts() && i < 1024; ++i) words.insert(std::to_string(i));
    words.insert("hart");
  }
  g_candidates.assign(words.begin(), words.end());
  return rl_completion_matches(text, generator);
}

void on_sigint(int) { Repl::interrupt(); }

class ReadlineSource final : public LineSource {
 public:
  explicit ReadlineSource(Repl& r) {
    g_repl = &r;
    rl_readline_name = "coremu";
    rl_attempted_completion_function = complete;
    using_history();
    stifle_history(1000);
    if (const char* home = std::getenv("HOME")) {
      history_ = std::string(home) + "/.coremu_history";
      read_history(history_.c_str());
    }
    // Ctrl-C pauses a running `continue`; at the prompt it is ignored.
    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
  }
  ~ReadlineSource() override {
    if (!history_.empty()) write_history(history_.c_str());
    g_repl = nullptr;
  }
  std::optional<std::string> next() override {
    char* l = readline("(coremu) ");
    if (!l) {
      std::fputc('\n', stdout);
      return std::nullopt;
    }
    std::string line(l);
    std::free(l);
    if (line.find_first_not_of(" \t") != std::string::npos) {
      HIST_ENTRY* last = history_length > 0 ? history_get(history_base + history_length - 1) : nullptr;
      if (!last || line != last->line) add_history(line.c_str());
    }
    return line;
  }

 private:
  std::string history_;
};

}  // namespace

std::unique_ptr<LineSource> stdin_source(Repl& r) {
  if (::isatty(0) && ::isatty(1)) return std::make_unique<ReadlineSource>(r);
  return std::make_unique<PlainSource>();
}

}  // namespace repl
