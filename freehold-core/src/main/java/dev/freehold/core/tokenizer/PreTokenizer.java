package dev.freehold.core.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits text into words before byte-level BPE, as llama.cpp does for each {@code tokenizer.ggml.pre}: a list of
 * regexes applied one after another, each splitting every current piece into its matches and the gaps between
 * them; then each word's UTF-8 bytes are mapped to GPT-2's printable characters.
 *
 * <p>Regexes with Unicode categories ({@code \p{L}}, {@code \p{N}}, ...) run, as in llama.cpp, on a "collapsed"
 * copy of the text in which every non-ASCII code point is replaced by one placeholder character for its
 * category (and non-ASCII whitespace by a vertical tab), with the categories in the regex rewritten to match
 * those placeholders. This reproduces llama.cpp's results exactly, including where they differ from a full
 * Unicode regex engine. Matching is confined to each piece (lookaheads do not see past it). ECMAScript's {@code $} (end of input only) is written {@code \z}.
 */
final class PreTokenizer {
    private static final String CONTRACTIONS = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
    private static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
    private static final String LLAMA3 = CONTRACTIONS
            + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String QWEN2 = CONTRACTIONS
            + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String QWEN35 = CONTRACTIONS
            + "|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String TEKKEN = "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String GPT4O = "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+" + CONTRACTIONS
            + "?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*" + CONTRACTIONS
            + "?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    // Non-ASCII literals are escaped: several of these characters have canonical equivalents (e.g. U+1FDB and
    // U+038A) that an editor may silently substitute, which would change or break the ranges.
    private static final String DEEPSEEK_LETTERS = "\\s?[A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-\u01BF\u01C4-\u0293\u0295-\u02AF\u0370-\u0373\u0376\u0377\u037B-\u037D\u037F\u0386\u0388-\u038A\u038C\u038E-\u03A1\u03A3-\u03F5\u03F7-\u0481\u048A-\u052F\u0531-\u0556\u10A0-\u10C5\u13A0-\u13F5\u13F8-\u13FD\u1C90-\u1CBA\u1CBD-\u1CBF\u1D00-\u1D2B\u1D6B-\u1D77\u1D79-\u1D9A\u1E00-\u1F15\u1F18-\u1F1D\u1F20-\u1F45\u1F48-\u1F4D\u1F50-\u1F57\u1F59\u1F5B\u1F5D\u1F5F-\u1F7D\u1F80-\u1FB4\u1FB6-\u1FBC\u1FBE\u1FC2-\u1FC4\u1FC6-\u1FCC\u1FD0-\u1FD3\u1FD6-\u1FDB\u1FE0-\u1FEC\u1FF2-\u1FF4\u1FF6-\u1FFC\u2102\u2107\u210A-\u2113\u2115\u2119-\u211D\u2124\u2126\u2128\u212A-\u212D\u212F-\u2134\u2139\u213C-\u213F\u2145-\u2149\u214E\u2183\u2184\u2C00-\u2C7B\u2C7E-\u2CE4\u2CEB-\u2CEE\u2CF2\u2CF3\uA640-\uA66D\uA680-\uA69B\uA722-\uA76F\uA771-\uA787\uA78B-\uA78E\uAB70-\uABBF\uFB00-\uFB06\uFB13-\uFB17\uFF21-\uFF3A\uFF41-\uFF5A\uD801\uDC00-\uD801\uDC4F\uD801\uDCB0-\uD801\uDCD3\uD801\uDCD8-\uD801\uDCFB\uD803\uDC80-\uD803\uDCB2\uD803\uDCC0-\uD803\uDCF2\uD806\uDCA0-\uD806\uDCDF\uD83A\uDD00-\uD83A\uDD43]+";
    private static final String DEEPSEEK_CJK = "[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+";
    private static final String BLOOM = " ?[^(\\s|.,!?\u2026\u3002\uFF0C\u3001\u0964\u06D4\u060C)]+";

    /** llama.cpp's regex lists, by the {@code tokenizer.ggml.pre} names that select them. */
    private static final Map<String, List<String>> BY_PRE = Map.ofEntries(
            Map.entry("default", List.of("[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2, "\\p{N}+", "[0-9][0-9][0-9]")),
            Map.entry("llama3", List.of(LLAMA3)), Map.entry("llama-v3", List.of(LLAMA3)), Map.entry("llama-bpe", List.of(LLAMA3)),
            Map.entry("falcon3", List.of(LLAMA3)), Map.entry("pixtral", List.of(LLAMA3)), Map.entry("dbrx", List.of(LLAMA3)),
            Map.entry("smaug-bpe", List.of(LLAMA3)), Map.entry("chatglm-bpe", List.of(LLAMA3)), Map.entry("glm4", List.of(LLAMA3)),
            Map.entry("deepseek-llm", List.of("[\r\n]", DEEPSEEK_LETTERS,
                    "\\s?[!-/:-~\uFF01-\uFF0F\uFF1A-\uFF5E\u2018-\u201F\u3000-\u3002]+", "\\s+\\z", DEEPSEEK_CJK, "\\p{N}+")),
            Map.entry("deepseek-coder", List.of("[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", DEEPSEEK_CJK, "\\p{N}")),
            Map.entry("deepseek-v3", List.of("\\p{N}{1,3}", "[\u4E00-\u9FA5\u3040-\u309F\u30A0-\u30FF]+",
                    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+")),
            Map.entry("falcon", List.of("[\\p{P}\\$\\+<=>\\^~\\|`]+", GPT2, "[0-9][0-9][0-9]")),
            Map.entry("starcoder", List.of("\\p{N}", GPT2)), Map.entry("refact", List.of("\\p{N}", GPT2)),
            Map.entry("command-r", List.of("\\p{N}", GPT2)), Map.entry("smollm", List.of("\\p{N}", GPT2)),
            Map.entry("codeshell", List.of("\\p{N}", GPT2)), Map.entry("exaone", List.of("\\p{N}", GPT2)),
            Map.entry("gpt-2", List.of(GPT2)), Map.entry("phi-2", List.of(GPT2)), Map.entry("mpt", List.of(GPT2)),
            Map.entry("olmo", List.of(GPT2)), Map.entry("jais", List.of(GPT2)), Map.entry("roberta-bpe", List.of(GPT2)),
            Map.entry("qwen2", List.of(QWEN2)), Map.entry("deepseek-r1-qwen", List.of(QWEN2)), Map.entry("stablelm2", List.of(QWEN2)),
            Map.entry("qwen35", List.of(QWEN35)),
            Map.entry("tekken", List.of(TEKKEN)),
            Map.entry("gpt-4o", List.of(GPT4O)), Map.entry("llama4", List.of(GPT4O)),
            Map.entry("poro-chat", List.of(BLOOM)), Map.entry("bloom", List.of(BLOOM)), Map.entry("gpt3-finnish", List.of(BLOOM)),
            Map.entry("viking", List.of(BLOOM, "\\p{N}")));

    /** Placeholders of the collapsed text, per category (llama.cpp's 0xD1..0xD5; 0xD0 for anything else). */
    private static final char[] PLACEHOLDER = new char[8];
    /** The ASCII members of each category, as character-class content. */
    private static final String[] ASCII_MEMBERS = new String[8];
    private static final Map<String, Integer> CATEGORY_NAMES = Map.of(
            "\\p{N}", Unicode.NUMBER, "\\p{L}", Unicode.LETTER, "\\p{P}", Unicode.PUNCTUATION, "\\p{M}", Unicode.ACCENT_MARK,
            "\\p{S}", Unicode.SYMBOL, "\\p{Lu}", Unicode.LETTER, "\\p{Ll}", Unicode.LETTER, "\\p{Lt}", Unicode.LETTER,
            "\\p{Lm}", Unicode.LETTER, "\\p{Lo}", Unicode.LETTER);

    static {
        PLACEHOLDER[Unicode.OTHER] = '\u00D0';
        PLACEHOLDER[Unicode.NUMBER] = '\u00D1';
        PLACEHOLDER[Unicode.LETTER] = '\u00D2';
        PLACEHOLDER[Unicode.PUNCTUATION] = '\u00D3';
        PLACEHOLDER[Unicode.ACCENT_MARK] = '\u00D4';
        PLACEHOLDER[Unicode.SYMBOL] = '\u00D5';
        PLACEHOLDER[Unicode.SEPARATOR] = '\u00D0';
        PLACEHOLDER[Unicode.CONTROL] = '\u00D0';
        ASCII_MEMBERS[Unicode.NUMBER] = "0-9";
        ASCII_MEMBERS[Unicode.LETTER] = "A-Za-z";
        ASCII_MEMBERS[Unicode.PUNCTUATION] = "!-#%-*,-/:-;?-@\\[-\\]_\\{\\}";
        ASCII_MEMBERS[Unicode.ACCENT_MARK] = "";
        ASCII_MEMBERS[Unicode.SYMBOL] = "\\$\\+<->\\^`\\|~";
    }

    private record Step(Pattern pattern, boolean collapsed) {
    }

    private final String name;
    private final List<Step> steps;
    private final boolean needsCollapse;

    private PreTokenizer(String name, List<String> regexes) {
        this.name = name;
        List<Step> s = new ArrayList<>();
        boolean collapse = false;
        for (String r : regexes) {
            boolean usesCategories = CATEGORY_NAMES.keySet().stream().anyMatch(r::contains);
            s.add(new Step(Pattern.compile(usesCategories ? collapseRegex(r) : r), usesCategories));
            collapse |= usesCategories;
        }
        this.steps = List.copyOf(s);
        this.needsCollapse = collapse;
    }

    /** The pre-tokenizer llama.cpp uses for a {@code tokenizer.ggml.pre} value (null or unknown: an error). */
    static PreTokenizer forName(String pre) {
        String key = pre == null ? "default" : pre;
        List<String> regexes = BY_PRE.get(key);
        if (regexes == null) {
            throw new TokenizerException("pre-tokenizer '" + pre + "' is not supported; supported: "
                    + new java.util.TreeSet<>(BY_PRE.keySet()));
        }
        return new PreTokenizer(key, regexes);
    }

    String name() {
        return name;
    }

    /** Rewrites {@code \p{X}} into classes of collapsed placeholders plus the category's ASCII members. */
    static String collapseRegex(String regex) {
        StringBuilder out = new StringBuilder();
        boolean inside = false;
        for (int i = 0; i < regex.length(); i++) {
            char c = regex.charAt(i);
            if (c == '[' && (i == 0 || regex.charAt(i - 1) != '\\')) {
                out.append('[');
                inside = true;
                continue;
            }
            if (inside && c == ']' && regex.charAt(i - 1) != '\\') {
                out.append(']');
                inside = false;
                continue;
            }
            if (c == '\\' && i + 3 < regex.length() && regex.charAt(i + 1) == 'p' && regex.charAt(i + 2) == '{') {
                int close = regex.indexOf('}', i + 3);
                if (close > 0 && close <= i + 10) {
                    Integer cat = CATEGORY_NAMES.get(regex.substring(i, close + 1));
                    if (cat != null) {
                        if (!inside) out.append('[');
                        out.append(PLACEHOLDER[cat]).append(ASCII_MEMBERS[cat]);
                        if (!inside) out.append(']');
                        i = close;
                        continue;
                    }
                }
            }
            out.append(c);
        }
        return out.toString();
    }

    /** Splits text (code points {@code cps}) into words, each as a String of its code points. */
    List<String> split(int[] cps) {
        String collapsed = needsCollapse ? collapse(cps) : null;
        String wide = null;
        int[] charIndex = null; // code point index -> char index in the wide text
        List<Integer> lengths = new ArrayList<>();
        lengths.add(cps.length);
        for (Step step : steps) {
            String subject;
            int[] index;
            if (step.collapsed) {
                subject = collapsed;
                index = null;
            } else {
                if (wide == null) {
                    StringBuilder sb = new StringBuilder();
                    charIndex = new int[cps.length + 1];
                    for (int i = 0; i < cps.length; i++) {
                        charIndex[i] = sb.length();
                        int cp = cps[i];
                        sb.appendCodePoint(cp > 0x7F && Unicode.isWhitespace(cp) ? 0x0B : cp);
                    }
                    charIndex[cps.length] = sb.length();
                    wide = sb.toString();
                }
                subject = wide;
                index = charIndex;
            }
            lengths = splitStep(step.pattern.matcher(subject), index, lengths);
        }
        List<String> words = new ArrayList<>(lengths.size());
        int start = 0;
        for (int len : lengths) {
            words.add(new String(cps, start, len));
            start += len;
        }
        return words;
    }

    private static List<Integer> splitStep(Matcher m, int[] charIndex, List<Integer> lengths) {
        List<Integer> out = new ArrayList<>(lengths.size() * 2);
        int start = 0;
        for (int len : lengths) {
            int end = start + len;
            m.region(toChar(charIndex, start), toChar(charIndex, end));
            int prev = start;
            while (m.find()) {
                int ms = toCodePoint(charIndex, m.start(), start, end);
                int me = toCodePoint(charIndex, m.end(), start, end);
                if (me == ms) continue;
                if (ms > prev) out.add(ms - prev);
                out.add(me - ms);
                prev = me;
            }
            if (prev < end) out.add(end - prev);
            start = end;
        }
        return out;
    }

    private static int toChar(int[] charIndex, int cp) {
        return charIndex == null ? cp : charIndex[cp];
    }

    private static int toCodePoint(int[] charIndex, int ch, int from, int to) {
        if (charIndex == null) return ch;
        int i = java.util.Arrays.binarySearch(charIndex, from, to + 1, ch);
        if (i < 0) throw new IllegalStateException("match inside a surrogate pair");
        return i;
    }

    private static String collapse(int[] cps) {
        char[] c = new char[cps.length];
        for (int i = 0; i < cps.length; i++) {
            int cp = cps[i];
            if (cp < 128) {
                c[i] = (char) cp;
            } else if (Unicode.isWhitespace(cp)) {
                c[i] = '\u000B';
            } else {
                c[i] = PLACEHOLDER[Unicode.category(cp)];
            }
        }
        return new String(c);
    }

    /** GPT-2's byte-level encoding: a word's UTF-8 bytes as printable characters, one per byte. */
    static String byteEncode(String word) {
        byte[] bytes = word.getBytes(StandardCharsets.UTF_8);
        char[] c = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) c[i] = Unicode.byteToChar(bytes[i]);
        return new String(c);
    }
}
