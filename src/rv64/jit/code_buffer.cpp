#include "rv64/jit/code_buffer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace rv64::jit {

CodeBuffer::CodeBuffer(size_t bytes) {
  long page = sysconf(_SC_PAGESIZE);
  size_ = (bytes + static_cast<size_t>(page) - 1) & ~(static_cast<size_t>(page) - 1);
  auto fail = [&](const char* what) {
    std::string msg = std::string("translation cache: ") + what + ": " + std::strerror(errno);
    release();
    throw std::runtime_error(msg);
  };
  // Shared anonymous memory, mapped a second time by mremap(old_size = 0).
  // (Linux perf takes such mappings, which show as /dev/zero, for JIT code
  // and names it from /tmp/perf-PID.map; a memfd it would take for a file.)
  void* w = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (w == MAP_FAILED) fail("mmap (read-write view)");
  rw_ = static_cast<uint8_t*>(w);
  void* x = mremap(rw_, 0, size_, MREMAP_MAYMOVE);
  if (x == MAP_FAILED) fail("mremap (second view)");
  rx_ = static_cast<uint8_t*>(x);
  if (mprotect(rx_, size_, PROT_READ | PROT_EXEC) != 0) fail("mprotect (executable view)");
}

CodeBuffer::~CodeBuffer() { release(); }

void CodeBuffer::release() {
  if (rx_) munmap(rx_, size_);
  if (rw_) munmap(rw_, size_);
  rx_ = rw_ = nullptr;
}

}  // namespace rv64::jit
