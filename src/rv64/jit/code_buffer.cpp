#include "rv64/jit/code_buffer.h"

#include <sys/mman.h>
#include <unistd.h>

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
  fd_ = memfd_create("coremu-code", MFD_CLOEXEC);
  if (fd_ < 0) fail("memfd_create");
  if (ftruncate(fd_, static_cast<off_t>(size_)) != 0) fail("ftruncate");
  void* w = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (w == MAP_FAILED) fail("mmap (read-write view)");
  rw_ = static_cast<uint8_t*>(w);
  void* x = mmap(nullptr, size_, PROT_READ | PROT_EXEC, MAP_SHARED, fd_, 0);
  if (x == MAP_FAILED) fail("mmap (executable view)");
  rx_ = static_cast<uint8_t*>(x);
}

CodeBuffer::~CodeBuffer() { release(); }

void CodeBuffer::release() {
  if (rx_) munmap(rx_, size_);
  if (rw_) munmap(rw_, size_);
  if (fd_ >= 0) close(fd_);
  rx_ = rw_ = nullptr;
  fd_ = -1;
}

}  // namespace rv64::jit
