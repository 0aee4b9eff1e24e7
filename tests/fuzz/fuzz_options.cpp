// Fuzzes the command-line parser: the input is split on NUL bytes into
// arguments. Any input must give Options or a ConfigError, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cli/options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> args(1);
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0) args.emplace_back();
    else args.back().push_back(static_cast<char>(data[i]));
  }
  try {
    (void)cli::parse_options(args);
  } catch (const machine::ConfigError&) {
  }
  try {
    args.erase(args.begin());  // as a `coremu ARGS` command line: record/replay subcommands too
    cli::Command c = cli::parse_command(args);
    if (c.kind != cli::Command::kReplay) (void)cli::parse_options(c.machine_args);
  } catch (const machine::ConfigError&) {
  }
  return 0;
}
