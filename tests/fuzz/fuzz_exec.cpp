// Fuzzes the translating executor against the interpreter: the input's
// first 8 bytes seed the registers and the run lengths, the rest is the
// program. Both executors run it from the same state (exec_diff.h); any
// difference in hart state, RAM or device writes aborts, and so does a
// crash in generated code. Not outside input, but the same machinery finds
// what random programs alone take long to reach.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "../common/exec_diff.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 12) return 0;
  static exec_diff::Twin twin;  // one translator for the whole run: its cache fills as a long run would
  uint64_t seed;
  std::memcpy(&seed, data, 8);
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> code(data + 8, data + size);
  twin.load(code, rng);
  for (int chunk = 0; chunk < 16; ++chunk) {
    std::string d = twin.step(1 + rng() % 200);
    if (!d.empty()) {
      std::fprintf(stderr, "fuzz_exec: the executors disagree after chunk %d: %s\n", chunk, d.c_str());
      std::abort();
    }
  }
  return 0;
}
