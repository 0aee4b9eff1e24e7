// Berkeley HTIF "tohost/fromhost" host interface, as used by riscv-tests,
// riscv-pk's bare-metal benchmarks and Spike-targeted programs.
//
// The guest stores a 64-bit command to `tohost`: device (bits 63:56),
// command (55:48), payload (47:0). Supported:
//   device 0, command 0, payload odd:  exit with status payload >> 1
//   device 0, command 0, payload even: syscall block at that address
//                                      (8 words: number, args...; result in word 0)
//                                      SYS_write (64) to fd 1/2, SYS_exit (93)
//   device 1, command 1:               putchar(payload & 0xff)
// The host clears tohost after taking a command and answers through
// `fromhost` when the guest waits for an answer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>

namespace machine {

class StateWriter;
class StateReader;

class Htif {
 public:
  struct Env {
    // Guest physical memory (RAM) access.
    std::function<bool(uint64_t pa, void* dst, uint64_t len)> read_mem;
    std::function<bool(uint64_t pa, const void* src, uint64_t len)> write_mem;
    // Console output.
    std::function<void(const uint8_t* data, size_t len)> console;
    // The program asked to exit with this status.
    std::function<void(int status)> exit;
  };
  static constexpr uint64_t kSysWrite = 64, kSysExit = 93;

  Htif(uint64_t tohost, uint64_t fromhost, Env env);

  uint64_t tohost() const { return tohost_; }
  uint64_t fromhost() const { return fromhost_; }

  // Call after the guest stored [pa, pa + size) (already written to RAM).
  // When the store completes the tohost word (its last byte is tohost's last
  // byte, or it is the whole word) a non-zero tohost value is executed.
  void on_store(uint64_t pa, unsigned size);

  // Machine state: HTIF keeps its registers in guest RAM; what is saved is
  // where they are, and load() refuses a state for other addresses.
  void save(StateWriter& w) const;
  void load(StateReader& r);

 private:
  void execute(uint64_t cmd);  // caller holds mu_
  void syscall(uint64_t block);
  void respond(uint64_t value);

  mutable std::mutex mu_;
  uint64_t tohost_, fromhost_;
  Env env_;
};

}  // namespace machine
