/* Shared support for the benchmark guests (see bench.h). */
#include "bench.h"

uint64_t bench_arg(const char *key, uint64_t def) {
  uint32_t len = 0;
  const char *s = (const char *)fdt_top_prop((const void *)(uintptr_t)guest_fdt, "chosen", "bootargs", &len);
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
