package dev.freehold.core.grammar;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A context-free grammar over Unicode code points in llama.cpp's GBNF notation, compiled to rules whose alternatives
 * are sequences of two kinds of element: a character class, or a reference to a rule. Repetition and grouping are
 * rewritten into helper rules at compile time, so matching only ever sees these two kinds.
 *
 * <p>GBNF: {@code name ::= alternatives}, alternatives separated by {@code |}; elements are string literals
 * {@code "..."}, character classes {@code [a-z0-9_]} / {@code [^"\\]}, {@code .} (any character), rule names,
 * parentheses, and the suffixes {@code * + ?} and {@code {m}}, {@code {m,}}, {@code {m,n}}; {@code #} starts a
 * comment; escapes for newline, return and tab ({@code \n \r \t}), the quote, backslash, brackets and dash, and code
 * points as backslash-x with 2 hex digits, backslash-u with 4 or backslash-U with 8.
 */
public final class Grammar {
    /** A set of code points: ranges [lo, hi] (inclusive), possibly negated. */
    public record CharClass(int[] ranges, boolean negated) {
        public boolean matches(int cp) {
            boolean in = false;
            for (int i = 0; i < ranges.length; i += 2) {
                if (cp >= ranges[i] && cp <= ranges[i + 1]) {
                    in = true;
                    break;
                }
            }
            return in != negated;
        }

        /** Whether some code point in [lo, hi] matches (for a partly received UTF-8 character). */
        public boolean matchesAnyIn(int lo, int hi) {
            if (!negated) {
                for (int i = 0; i < ranges.length; i += 2) if (ranges[i] <= hi && ranges[i + 1] >= lo) return true;
                return false;
            }
            // negated: some code point in [lo, hi] lies outside every range
            int cp = lo;
            boolean moved = true;
            while (cp <= hi && moved) {
                moved = false;
                for (int i = 0; i < ranges.length; i += 2) {
                    if (cp >= ranges[i] && cp <= ranges[i + 1]) {
                        cp = ranges[i + 1] + 1;
                        moved = true;
                    }
                }
            }
            return cp <= hi;
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder(negated ? "[^" : "[");
            for (int i = 0; i < ranges.length; i += 2) {
                sb.append(Integer.toHexString(ranges[i]));
                if (ranges[i + 1] != ranges[i]) sb.append('-').append(Integer.toHexString(ranges[i + 1]));
                sb.append(' ');
            }
            return sb.append(']').toString();
        }
    }

    /**
     * Compiled rules: {@code rules[r][a]} is alternative a of rule r, a sequence of elements; an element e >= 0 is
     * the character class {@code classes[e]}, e < 0 refers to rule {@code -e - 1}.
     */
    final int[][][] rules;
    final CharClass[] classes;
    final String[] ruleNames;
    final int root;

    Grammar(int[][][] rules, CharClass[] classes, String[] ruleNames, int root) {
        this.rules = rules;
        this.classes = classes;
        this.ruleNames = ruleNames;
        this.root = root;
    }

    /** Parses GBNF text; the start rule is {@code root}. */
    public static Grammar parse(String gbnf) {
        return parse(gbnf, "root");
    }

    public static Grammar parse(String gbnf, String rootName) {
        return new GbnfParser(gbnf).parse(rootName);
    }

    public int ruleCount() {
        return rules.length;
    }

    public String ruleName(int r) {
        return ruleNames[r];
    }

    /** Builds the compiled form; checks references and left recursion. */
    static final class Builder {
        final Map<String, Integer> ids = new LinkedHashMap<>();
        final List<int[][]> rules = new ArrayList<>();
        final List<String> names = new ArrayList<>();
        final List<CharClass> classes = new ArrayList<>();
        final Map<String, Integer> classIds = new LinkedHashMap<>();
        final Map<String, int[]> firstUse = new LinkedHashMap<>(); // rule name -> {line, column} of first reference
        final java.util.Set<String> defined = new java.util.HashSet<>();

        /** Rules after rewriting repetitions: a bound, since "x{0,10000}" alone makes 10,000 of them. */
        static final int MAX_RULES = 100_000;

        int rule(String name) {
            Integer id = ids.get(name);
            if (id == null) {
                if (rules.size() >= MAX_RULES) throw new GrammarException("the grammar is too large: more than " + MAX_RULES + " rules once repetitions are written out");
                id = rules.size();
                ids.put(name, id);
                rules.add(null);
                names.add(name);
            }
            return id;
        }

        /** A rule made for a group or repetition; '#' cannot occur in GBNF names, so it never meets a user's rule. */
        int helper(String base) {
            String name = base + "#" + rules.size();
            defined.add(name);
            return rule(name);
        }

        int charClass(int[] ranges, boolean negated) {
            String key = Arrays.toString(ranges) + negated;
            Integer id = classIds.get(key);
            if (id == null) {
                id = classes.size();
                classes.add(new CharClass(ranges, negated));
                classIds.put(key, id);
            }
            return id;
        }

        Grammar build(String rootName) {
            for (String n : ids.keySet()) {
                if (!defined.contains(n)) {
                    int[] at = firstUse.getOrDefault(n, new int[] {0, 0});
                    throw new GrammarException("rule '" + n + "' is used but not defined", at[0], at[1]);
                }
            }
            Integer root = ids.get(rootName);
            if (root == null) throw new GrammarException("the grammar has no '" + rootName + "' rule to start from");
            int[][][] r = rules.toArray(new int[0][][]);
            checkLeftRecursion(r, names);
            return new Grammar(r, classes.toArray(new CharClass[0]), names.toArray(new String[0]), root);
        }

        /** A rule that can reach itself without consuming a character would make matching loop forever. */
        private static void checkLeftRecursion(int[][][] rules, List<String> names) {
            int n = rules.length;
            boolean[] nullable = new boolean[n];
            boolean changed = true;
            while (changed) {
                changed = false;
                for (int r = 0; r < n; r++) {
                    if (nullable[r]) continue;
                    for (int[] alt : rules[r]) {
                        boolean all = true;
                        for (int e : alt) {
                            if (e >= 0 || !nullable[-e - 1]) {
                                all = false;
                                break;
                            }
                        }
                        if (all) {
                            nullable[r] = true;
                            changed = true;
                            break;
                        }
                    }
                }
            }
            // edges r -> s when s can come first in r (after nullable prefixes)
            int[] state = new int[n]; // 0 new, 1 on stack, 2 done
            for (int r = 0; r < n; r++) {
                if (state[r] == 0) visit(r, rules, nullable, state, names);
            }
        }

        private static void visit(int r, int[][][] rules, boolean[] nullable, int[] state, List<String> names) {
            state[r] = 1;
            for (int[] alt : rules[r]) {
                for (int e : alt) {
                    if (e >= 0) break;
                    int s = -e - 1;
                    if (state[s] == 1) throw new GrammarException("left recursion: rule '" + names.get(s) + "' can reach itself without consuming input");
                    if (state[s] == 0) visit(s, rules, nullable, state, names);
                    if (!nullable[s]) break;
                }
            }
            state[r] = 2;
        }
    }
}
