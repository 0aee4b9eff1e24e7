/* A guest for the REPL tests (tests/repl): hart 0 reads one line from the
 * UART (polling LSR.DR), echoes it as "got: LINE", and exits with the
 * number the line ends with ("exit 7" exits with 7; no number: 0). The
 * other harts park. Run on its own it would wait for input forever. */
#include "guest.h"

#define UART_RBR (UART_BASE + 0)
#define UART_LSR (UART_BASE + 5)
#define LSR_DR 0x01

static char line[128];

int main(unsigned hartid) {
  if (hartid != 0) park();
  unsigned n = 0;
  for (;;) {
    while (!(MMIO8(UART_LSR) & LSR_DR)) {
    }
    char c = (char)MMIO8(UART_RBR);
    if (c == '\n' || c == '\r') break;
    if (n + 1 < sizeof line) line[n++] = c;
  }
  line[n] = 0;
  uart_puts("got: ");
  uart_puts(line);
  uart_puts("\r\n");
  unsigned code = 0, i = n;
  while (i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9') i--;
  for (; i < n; i++) code = code * 10 + (unsigned)(line[i] - '0');
  return (int)code;
}
