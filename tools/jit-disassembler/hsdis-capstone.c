/*
 * A HotSpot disassembler plugin (the "hsdis" library the JVM loads for -XX:+PrintAssembly) on top of Capstone,
 * so that what C2 makes of a Vector API kernel can be read instead of guessed. Local tool only: Freehold does not
 * ship or load it. Capstone 4 (Debian 12) does not decode many EVEX (AVX-512) and some VEX forms (vpermb, kmov); such
 * instructions print as ".byte" lines and the listing resynchronises after them.
 */
#include <capstone/capstone.h>
#include <stdint.h>
#include <stdio.h>

typedef void *(*hsdis_event_fn)(void *stream, const char *event, void *arg);
typedef int (*hsdis_printf_fn)(void *stream, const char *format, ...);

/* The entry point the JVM looks up: decode [start_va, end_va) whose bytes are at buffer. */
void *decode_instructions_virtual(uintptr_t start_va, uintptr_t end_va, unsigned char *buffer, uintptr_t length,
                                  hsdis_event_fn event, void *event_stream, hsdis_printf_fn print,
                                  void *print_stream, const char *options, int newline) {
  (void) options;
  csh handle;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK) return NULL;
  cs_insn *insn = cs_malloc(handle);
  const uint8_t *code = buffer;
  size_t left = length;
  uint64_t address = start_va;
  while (address < end_va && left > 0) {
    uint64_t at = address;
    event(event_stream, "insn", (void *) (uintptr_t) at);
    if (cs_disasm_iter(handle, &code, &left, &address, insn)) {
      print(print_stream, "%s\t%s", insn->mnemonic, insn->op_str);
    } else { /* unknown to this Capstone: show one byte and go on */
      print(print_stream, ".byte 0x%02x", *code);
      code++;
      left--;
      address++;
    }
    event(event_stream, "/insn", (void *) (uintptr_t) address);
    if (newline) print(print_stream, "\n");
  }
  cs_free(insn, 1);
  cs_close(&handle);
  return (void *) (uintptr_t) address;
}
