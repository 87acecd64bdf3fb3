/*
 * A HotSpot disassembler plugin (the "hsdis" library the JVM loads for -XX:+PrintAssembly) that hands the code to
 * GNU objdump, which decodes every AVX-512 (EVEX) instruction; Capstone 4, the other plugin here, does not. Each
 * block of code is written to a temporary file, disassembled with objdump at its real address, and the listing is
 * passed back to the JVM one instruction at a time, so the JVM's own annotations still land between instructions.
 * Local tool only: Freehold does not ship or load it.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef void *(*hsdis_event_fn)(void *stream, const char *event, void *arg);
typedef int (*hsdis_printf_fn)(void *stream, const char *format, ...);

typedef struct {
  uint64_t address;
  char text[256];
} line_t;

void *decode_instructions_virtual(uintptr_t start_va, uintptr_t end_va, unsigned char *buffer, uintptr_t length,
                                  hsdis_event_fn event, void *event_stream, hsdis_printf_fn print,
                                  void *print_stream, const char *options, int newline) {
  (void) options;
  char path[] = "/tmp/hsdis-objdump-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return NULL;
  if (write(fd, buffer, length) != (ssize_t) length) {
    close(fd);
    unlink(path);
    return NULL;
  }
  close(fd);
  char command[512];
  snprintf(command, sizeof command,
           "objdump -D -b binary -m i386:x86-64 -M intel --no-show-raw-insn --adjust-vma=0x%" PRIxPTR " %s",
           start_va, path);
  FILE *listing = popen(command, "r");
  if (listing == NULL) {
    unlink(path);
    return NULL;
  }
  size_t count = 0, capacity = 1024;
  line_t *lines = malloc(capacity * sizeof *lines);
  char row[512];
  while (lines != NULL && fgets(row, sizeof row, listing) != NULL) {
    /* instruction rows look like "    7f39d7fa72f6:\tvpermb ymm0,ymm9,ymm2" */
    char *colon = strstr(row, ":\t");
    if (colon == NULL) continue;
    char *end;
    uint64_t address = strtoull(row, &end, 16);
    if (end != colon) continue;
    if (count == capacity) {
      capacity *= 2;
      line_t *grown = realloc(lines, capacity * sizeof *lines);
      if (grown == NULL) break;
      lines = grown;
    }
    lines[count].address = address;
    snprintf(lines[count].text, sizeof lines[count].text, "%s", colon + 2);
    lines[count].text[strcspn(lines[count].text, "\n")] = '\0';
    count++;
  }
  pclose(listing);
  unlink(path);
  if (lines == NULL) return NULL;
  if (count == 0) {
    print(print_stream, "(no listing from objdump: is binutils installed and on the PATH?)\n");
  }
  for (size_t i = 0; i < count; i++) {
    uint64_t next = i + 1 < count ? lines[i + 1].address : end_va;
    event(event_stream, "insn", (void *) (uintptr_t) lines[i].address);
    print(print_stream, "%s", lines[i].text);
    event(event_stream, "/insn", (void *) (uintptr_t) next);
    if (newline) print(print_stream, "\n");
  }
  free(lines);
  return (void *) end_va;
}
