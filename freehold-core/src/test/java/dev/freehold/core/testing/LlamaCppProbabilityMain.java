package dev.freehold.core.testing;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Iterator;
import java.util.Map;

/**
 * Runs in its own JVM with de.kherud:llama 3.4.1 (not 4.2.0) on the class path: for each prompt (lines of P + base64 on
 * stdin) llama.cpp's probabilities of the top n next tokens, with a sampler that leaves the distribution as the
 * softmax of the logits (temperature 1, top-k 0, top-p 1, min-p 0, no penalties). Output: one line per prompt,
 * {@code PROBS base64(piece)=p ...}. With mode {@code embed-mean} instead of n: the model in embedding mode with mean
 * pooling, one line {@code EMBED v1 v2 ...} per text. Reflection, because this class is compiled against 4.2.0, whose API differs.
 */
public final class LlamaCppProbabilityMain {
    private LlamaCppProbabilityMain() {
    }

    public static void main(String[] args) throws Exception {
        String model = args[0];
        boolean embed = args[1].equals("embed-mean");
        int n = embed ? 0 : Integer.parseInt(args[1]);
        Class<?> mpClass = Class.forName("de.kherud.llama.ModelParameters");
        Object mp = mpClass.getConstructor().newInstance();
        call(mp, "setModelFilePath", String.class, model);
        call(mp, "setNThreads", int.class, 2);
        call(mp, "setNCtx", int.class, 512);
        call(mp, "setSeed", int.class, 42);
        if (embed) {
            call(mp, "setEmbedding", boolean.class, true);
            Class<?> pooling = Class.forName("de.kherud.llama.args.PoolingType");
            mp.getClass().getMethod("setPoolingType", pooling).invoke(mp, pooling.getMethod("valueOf", String.class).invoke(null, "MEAN"));
        }
        Class<?> modelClass = Class.forName("de.kherud.llama.LlamaModel");
        Class<?> ipClass = Class.forName("de.kherud.llama.InferenceParameters");
        try (AutoCloseable llama = (AutoCloseable) modelClass.getConstructor(mpClass).newInstance(mp)) {
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line; (line = in.readLine()) != null && line.startsWith("P"); ) {
                String prompt = new String(Base64.getDecoder().decode(line.substring(1)), StandardCharsets.UTF_8);
                if (embed) {
                    float[] v = (float[]) modelClass.getMethod("embed", String.class).invoke(llama, prompt);
                    StringBuilder out = new StringBuilder("EMBED");
                    for (float f : v) out.append(' ').append(f);
                    System.out.println(out);
                    System.out.flush();
                    continue;
                }
                Object ip = ipClass.getConstructor(String.class).newInstance(prompt);
                call(ip, "setNPredict", int.class, 1);
                call(ip, "setNProbs", int.class, n);
                call(ip, "setTemperature", float.class, 1f);
                call(ip, "setTopK", int.class, 0);
                call(ip, "setTopP", float.class, 1f);
                call(ip, "setMinP", float.class, 0f);
                call(ip, "setTypicalP", float.class, 1f);
                call(ip, "setTfsZ", float.class, 1f);
                call(ip, "setRepeatPenalty", float.class, 1f);
                call(ip, "setFrequencyPenalty", float.class, 0f);
                call(ip, "setPresencePenalty", float.class, 0f);
                call(ip, "setCachePrompt", boolean.class, false);
                call(ip, "setIgnoreEos", boolean.class, true);
                call(ip, "setSeed", int.class, 42);
                Iterable<?> outputs = (Iterable<?>) modelClass.getMethod("generate", ipClass).invoke(llama, ip);
                Iterator<?> it = outputs.iterator();
                Object first = it.next();
                Map<?, ?> probs = (Map<?, ?>) first.getClass().getField("probabilities").get(first);
                StringBuilder out = new StringBuilder("PROBS");
                for (var e : probs.entrySet()) {
                    out.append(' ').append(Base64.getEncoder().encodeToString(e.getKey().toString().getBytes(StandardCharsets.UTF_8)))
                            .append('=').append(e.getValue());
                }
                while (it.hasNext()) it.next();
                System.out.println(out);
                System.out.flush();
            }
        }
        System.exit(0);
    }

    private static void call(Object target, String name, Class<?> type, Object value) throws Exception {
        Method m = target.getClass().getMethod(name, type);
        m.invoke(target, value);
    }
}
