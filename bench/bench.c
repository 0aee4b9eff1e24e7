/* Shared support for the benchmark guests (see bench.h). */
#include "bench.h"

#define FDT_MAGIC 0xd00dfeedu
#define FDT_BEGIN_NODE 1u
#define FDT_END_NODE 2u
#define FDT_PROP 3u
#define FDT_NOP 4u
#define FDT_END 9u

static uint32_t rd32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static int str_eq(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

/* /chosen/bootargs of the device tree at guest_fdt, or NULL. Bounds-checked
   walk of the structure block, like fdt_harts.c. */
static const char *bootargs(unsigned *len_out) {
  const uint8_t *base = (const uint8_t *)(uintptr_t)guest_fdt;
  if (!base || ((uintptr_t)base & 3) || (uintptr_t)base < DRAM_BASE) return 0;
  if (rd32(base) != FDT_MAGIC) return 0;
  uint32_t total = rd32(base + 4), off_struct = rd32(base + 8), off_strings = rd32(base + 12);
  uint32_t size_strings = rd32(base + 32), size_struct = rd32(base + 36);
  if (total > (64u << 20) || off_struct >= total || size_struct > total - off_struct) return 0;
  if (off_strings >= total || size_strings > total - off_strings) return 0;
  const char *strings = (const char *)base + off_strings;

  const uint8_t *p = base + off_struct, *end = p + size_struct;
  int depth = 0, in_chosen = 0;
  while (p + 4 <= end) {
    uint32_t tok = rd32(p);
    p += 4;
    if (tok == FDT_BEGIN_NODE) {
      const char *name = (const char *)p;
      const uint8_t *q = p;
      while (q < end && *q) q++;
      if (q >= end) return 0;
      p = (const uint8_t *)(((uintptr_t)q + 1 + 3) & ~(uintptr_t)3);
      depth++;
      if (depth == 2 && str_eq(name, "chosen")) in_chosen = 1;
    } else if (tok == FDT_END_NODE) {
      if (depth == 2) in_chosen = 0;
      if (--depth < 0) return 0;
    } else if (tok == FDT_PROP) {
      if (p + 8 > end) return 0;
      uint32_t len = rd32(p), nameoff = rd32(p + 4);
      if (len > (uint32_t)(end - p) - 8) return 0;
      if (in_chosen && depth == 2 && nameoff < size_strings && str_eq(strings + nameoff, "bootargs")) {
        *len_out = len;
        return (const char *)p + 8;
      }
      p += 8 + ((len + 3) & ~3u);
    } else if (tok == FDT_NOP) {
    } else if (tok == FDT_END) {
      break;
    } else {
      return 0;
    }
  }
  return 0;
}

uint64_t bench_arg(const char *key, uint64_t def) {
  unsigned len = 0;
  const char *s = bootargs(&len);
  if (!s) return def;
  const char *end = s + len;
  while (s < end && *s) {
    while (s < end && *s == ' ') s++;
    /* does this word start with key= ? */
    const char *k = key, *w = s;
    while (*k && w < end && *w == *k) w++, k++;
    if (!*k && w < end && *w == '=') {
      w++;
      uint64_t v = 0;
      int digits = 0;
      while (w < end && *w >= '0' && *w <= '9') v = v * 10 + (uint64_t)(*w++ - '0'), digits++;
      if (digits && (w == end || *w == ' ' || *w == 0)) return v;
      return def;
    }
    while (s < end && *s && *s != ' ') s++;
  }
  return def;
}

void bench_report(uint64_t insns, uint64_t ops, uint64_t ticks, uint64_t minstret) {
  print_lock();
  uart_puts("bench: insns=");
  uart_putdec(insns);
  uart_puts(" ops=");
  uart_putdec(ops);
  uart_puts(" ticks=");
  uart_putdec(ticks);
  uart_puts(" minstret=");
  uart_putdec(minstret);
  uart_puts("\n");
  print_unlock();
}
