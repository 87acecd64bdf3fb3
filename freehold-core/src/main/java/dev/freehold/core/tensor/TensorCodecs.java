package dev.freehold.core.tensor;

import java.util.EnumMap;
import java.util.Map;

/** The registry of implemented codecs. */
final class TensorCodecs {
    private TensorCodecs() {
    }

    private static final Map<GgmlType, TensorCodec> CODECS = new EnumMap<>(GgmlType.class);

    static {
        for (TensorCodec c : new TensorCodec[] {
                FloatCodecs.F32, FloatCodecs.F16, FloatCodecs.BF16,
                LegacyQuants.Q4_0, LegacyQuants.Q4_1, LegacyQuants.Q5_0, LegacyQuants.Q5_1, LegacyQuants.Q8_0,
                KQuants.Q2_K, KQuants.Q3_K, KQuants.Q4_K, KQuants.Q5_K, KQuants.Q6_K, KQuants.Q8_K}) {
            CODECS.put(c.type(), c);
        }
    }

    static TensorCodec forType(GgmlType type) {
        return CODECS.get(type);
    }
}
