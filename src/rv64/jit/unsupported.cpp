// Hosts other than x86-64 have no translator: harts interpret. The
// Machine never creates one there (COREMU_JIT is not defined); these
// definitions only let code that owns a Translator pointer build.
#include <stdexcept>

#include "rv64/jit/code_buffer.h"
#include "rv64/jit/translator.h"

namespace rv64::jit {

Translator::Translator(Options opt) : opt_(opt) {
  throw std::runtime_error("this host has no translator (x86-64 only): harts interpret");
}
Translator::~Translator() = default;
const Translation* Translator::translate(const Hart&, const void*) { return nullptr; }
const Translation* Translator::find(uint64_t) const { return nullptr; }
void* Translator::share(const void*) { return nullptr; }
void Translator::execute(Hart&, const Translation&, uint64_t) const {}
Stats Translator::stats() const { return stats_; }
void* Translator::alloc_data(size_t) { return nullptr; }

}  // namespace rv64::jit
