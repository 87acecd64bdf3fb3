package dev.freehold.core.format;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Maps a whole file read-only and hands it to a parser; the mapping is released if parsing fails. */
public final class MappedFile {
    private MappedFile() {
    }

    /** Builds the parsed object from the mapping; it owns the arena from then on (and closes it when closed). */
    @FunctionalInterface
    public interface Parser<T> {
        T parse(Arena arena, MemorySegment file);
    }

    public static <T> T open(Path path, Parser<T> parser) throws IOException {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment seg;
            try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
                seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            } catch (NoSuchFileException e) {
                throw new ModelFormatException(path, "no such file");
            }
            return parser.parse(arena, seg);
        } catch (RuntimeException | IOException e) {
            arena.close();
            throw e;
        }
    }
}
