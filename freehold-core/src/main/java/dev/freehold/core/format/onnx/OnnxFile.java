package dev.freehold.core.format.onnx;

import dev.freehold.core.format.MappedFile;
import dev.freehold.core.format.ModelFormatException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parts of an ONNX model that carry weights: the graph's initializers (name, element type, shape, data) and its
 * nodes (operator, inputs, outputs), read from the protobuf wire format of {@code onnx.proto} directly. Weights stay
 * in the memory-mapped file. Every length and offset is checked against the enclosing message, so a truncated or
 * hostile file fails with a clear error instead of reading out of bounds.
 */
public final class OnnxFile implements AutoCloseable {
    /** ONNX element types used by weights. */
    public static final int FLOAT = 1;
    public static final int INT64 = 7;
    public static final int FLOAT16 = 10;

    /** An initializer: its data is {@code data} (raw little-endian values) in the mapped file. */
    public record Tensor(String name, int dataType, long[] dims, MemorySegment data) {
        public long elements() {
            long n = 1;
            for (long d : dims) n = Math.multiplyExact(n, d);
            return n;
        }
    }

    /** A graph node. */
    public record Node(String opType, List<String> inputs, List<String> outputs) {
    }

    private final Path path;
    private final Arena arena;
    private final Map<String, Tensor> initializers;
    private final List<Node> nodes;
    private final String producer;

    private OnnxFile(Path path, Arena arena, Map<String, Tensor> initializers, List<Node> nodes, String producer) {
        this.path = path;
        this.arena = arena;
        this.initializers = initializers;
        this.nodes = nodes;
        this.producer = producer;
    }

    public static OnnxFile open(Path path) throws IOException {
        return MappedFile.open(path, (arena, seg) -> parse(path, arena, seg));
    }

    public Path path() {
        return path;
    }

    public Map<String, Tensor> initializers() {
        return initializers;
    }

    public List<Node> nodes() {
        return nodes;
    }

    public String producer() {
        return producer;
    }

    @Override
    public void close() {
        arena.close();
    }

    // ------------------------------------------------------------------------------------------------ wire format

    private static final int VARINT = 0;
    private static final int FIXED64 = 1;
    private static final int LENGTH = 2;
    private static final int FIXED32 = 5;

    /** A cursor over one message's bytes [pos, end) of the file. */
    private static final class Reader {
        final Path path;
        final MemorySegment seg;
        long pos;
        final long end;
        final String where;

        Reader(Path path, MemorySegment seg, long pos, long end, String where) {
            this.path = path;
            this.seg = seg;
            this.pos = pos;
            this.end = end;
            this.where = where;
        }

        boolean more() {
            return pos < end;
        }

        long varint() {
            long result = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                if (pos >= end) throw error("a number runs past the end of its message");
                byte b = seg.get(ValueLayout.JAVA_BYTE, pos++);
                result |= (long) (b & 0x7F) << shift;
                if (b >= 0) return result;
            }
            throw error("a number is longer than 10 bytes");
        }

        /** The next length-delimited field as [start, end). */
        Reader sub(String name) {
            long n = varint();
            if (n < 0 || n > end - pos) throw error("field '" + name + "' claims " + n + " bytes but only " + (end - pos) + " remain");
            Reader r = new Reader(path, seg, pos, pos + n, name);
            pos += n;
            return r;
        }

        String string(String name) {
            Reader r = sub(name);
            if (r.end - r.pos > 1 << 20) throw error("field '" + name + "' is a string of " + (r.end - r.pos) + " bytes");
            byte[] b = seg.asSlice(r.pos, r.end - r.pos).toArray(ValueLayout.JAVA_BYTE);
            return new String(b, StandardCharsets.UTF_8);
        }

        void skip(int wireType) {
            switch (wireType) {
                case VARINT -> varint();
                case FIXED64 -> advance(8);
                case LENGTH -> sub("(unknown)");
                case FIXED32 -> advance(4);
                default -> throw error("wire type " + wireType + " is not valid protobuf (groups are not used by ONNX)");
            }
        }

        void advance(long n) {
            if (n > end - pos) throw error("a field runs past the end of its message");
            pos += n;
        }

        ModelFormatException error(String problem) {
            return new ModelFormatException(path, where, pos, problem);
        }
    }

    private static OnnxFile parse(Path path, Arena arena, MemorySegment seg) {
        Reader model = new Reader(path, seg, 0, seg.byteSize(), "ModelProto");
        Map<String, Tensor> inits = new LinkedHashMap<>();
        List<Node> nodes = new ArrayList<>();
        String producer = "";
        boolean sawGraph = false;
        while (model.more()) {
            long key = model.varint();
            int field = (int) (key >>> 3);
            int wire = (int) (key & 7);
            if (field == 7 && wire == LENGTH) {
                sawGraph = true;
                parseGraph(model.sub("graph"), inits, nodes);
            } else if (field == 2 && wire == LENGTH) {
                producer = model.string("producer_name");
            } else {
                model.skip(wire);
            }
        }
        if (!sawGraph) throw new ModelFormatException(path, "ModelProto", 0, "no graph: not an ONNX model");
        return new OnnxFile(path, arena, Collections.unmodifiableMap(inits), List.copyOf(nodes), producer);
    }

    private static void parseGraph(Reader g, Map<String, Tensor> inits, List<Node> nodes) {
        while (g.more()) {
            long key = g.varint();
            int field = (int) (key >>> 3);
            int wire = (int) (key & 7);
            if (field == 1 && wire == LENGTH) {
                nodes.add(parseNode(g.sub("node")));
            } else if (field == 5 && wire == LENGTH) {
                Tensor t = parseTensor(g.sub("initializer"));
                inits.put(t.name(), t);
            } else {
                g.skip(wire);
            }
        }
    }

    private static Node parseNode(Reader n) {
        List<String> in = new ArrayList<>();
        List<String> out = new ArrayList<>();
        String op = "";
        while (n.more()) {
            long key = n.varint();
            int field = (int) (key >>> 3);
            int wire = (int) (key & 7);
            if (field == 1 && wire == LENGTH) in.add(n.string("node.input"));
            else if (field == 2 && wire == LENGTH) out.add(n.string("node.output"));
            else if (field == 4 && wire == LENGTH) op = n.string("node.op_type");
            else n.skip(wire);
        }
        return new Node(op, List.copyOf(in), List.copyOf(out));
    }

    private static Tensor parseTensor(Reader t) {
        List<Long> dims = new ArrayList<>();
        int type = 0;
        String name = "";
        Reader raw = null;
        Reader floats = null;
        boolean external = false;
        while (t.more()) {
            long key = t.varint();
            int field = (int) (key >>> 3);
            int wire = (int) (key & 7);
            switch (field) {
                case 1 -> {
                    if (wire == VARINT) {
                        dims.add(t.varint());
                    } else if (wire == LENGTH) {
                        Reader packed = t.sub("dims");
                        while (packed.more()) dims.add(packed.varint());
                    } else {
                        t.skip(wire);
                    }
                }
                case 2 -> {
                    if (wire == VARINT) type = (int) t.varint();
                    else t.skip(wire);
                }
                case 4 -> {
                    if (wire == LENGTH) floats = t.sub("float_data");
                    else throw t.error("unpacked float_data is not supported");
                }
                case 8 -> {
                    if (wire == LENGTH) name = t.string("name");
                    else t.skip(wire);
                }
                case 9 -> {
                    if (wire == LENGTH) raw = t.sub("raw_data");
                    else t.skip(wire);
                }
                case 13 -> {
                    external = true;
                    t.skip(wire);
                }
                default -> t.skip(wire);
            }
        }
        if (external) {
            throw t.error("initializer '" + name + "' keeps its data in an external file; only self-contained ONNX models are read");
        }
        if (dims.size() > 8) throw t.error("initializer '" + name + "' has " + dims.size() + " dimensions");
        long[] d = new long[dims.size()];
        long elements = 1;
        for (int i = 0; i < d.length; i++) {
            d[i] = dims.get(i);
            if (d[i] < 0) throw t.error("initializer '" + name + "' has a negative dimension");
            elements = Math.multiplyExact(elements, d[i]);
        }
        Reader data = raw != null ? raw : floats;
        long width = switch (type) {
            case FLOAT -> 4;
            case INT64 -> 8;
            case FLOAT16 -> 2;
            default -> 0;
        };
        MemorySegment bytes = MemorySegment.NULL;
        if (data != null) {
            if (width > 0 && data.end - data.pos != elements * width) {
                throw t.error("initializer '%s': %d bytes of data for %d values of type %d".formatted(name, data.end - data.pos, elements, type));
            }
            if (data == floats && type != FLOAT) throw t.error("initializer '" + name + "' has float_data but type " + type);
            bytes = t.seg.asSlice(data.pos, data.end - data.pos);
        }
        return new Tensor(name, type, d, bytes);
    }
}
