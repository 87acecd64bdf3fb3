package dev.freehold.core.grammar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class GrammarTest {
    /** A JSON grammar in GBNF (ours, after the JSON spec). */
    static final String JSON = """
            root   ::= value
            value  ::= object | array | string | number | ("true" | "false" | "null")
            object ::= "{" ws ( string ws ":" ws value ws ( "," ws string ws ":" ws value ws )* )? "}"
            array  ::= "[" ws ( value ws ( "," ws value ws )* )? "]"
            string ::= "\\"" ( [^"\\\\\\x00-\\x1F] | "\\\\" ( ["\\\\/bfnrt] | "u" [0-9a-fA-F]{4} ) )* "\\""
            number ::= "-"? ( "0" | [1-9] [0-9]* ) ( "." [0-9]+ )? ( [eE] [-+]? [0-9]+ )?
            ws     ::= [ \\t\\n\\r]*
            """;

    static boolean matches(Grammar g, String text) {
        GrammarMatcher m = new GrammarMatcher(g);
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        return m.accepts(b) && complete(m, b);
    }

    private static boolean complete(GrammarMatcher m, byte[] b) {
        m.accept(b);
        return m.isComplete();
    }

    @Test
    void jsonGrammarAcceptsJsonAndRejectsTheRest() {
        Grammar g = Grammar.parse(JSON);
        for (String ok : List.of("{}", "[]", "0", "-12.5e+3", "\"a\\u00e9\\n\"", "{\"a\": [1, 2, {\"b\": null}], \"c\": true}",
                "[ \"naïve café 🦙\" ]", "{ }", "\"\"")) {
            assertThat(matches(g, ok)).as(ok).isTrue();
        }
        for (String bad : List.of("{", "[1,]", "01", "\"\\x\"", "{a:1}", "tru", "[1 2]", "\"line\nbreak\"", "1.", "{\"a\" 1}")) {
            assertThat(matches(g, bad)).as(bad).isFalse();
        }
    }

    @Test
    void incompleteButValidPrefixesAreAcceptedAndNotComplete() {
        GrammarMatcher m = new GrammarMatcher(Grammar.parse(JSON));
        assertThat(m.accepts("{\"ab".getBytes(StandardCharsets.UTF_8))).isTrue();
        m.accept("{\"ab".getBytes(StandardCharsets.UTF_8));
        assertThat(m.isComplete()).isFalse();
        assertThat(m.accepts("\"}".getBytes(StandardCharsets.UTF_8))).isFalse(); // no ':' value yet
        m.accept("\": 1}".getBytes(StandardCharsets.UTF_8));
        assertThat(m.isComplete()).isTrue();
    }

    @Test
    void aMultiByteCharacterMayBeSplitAcrossTokens() {
        Grammar g = Grammar.parse("root ::= \"é\" [a-z]");
        byte[] e = "é".getBytes(StandardCharsets.UTF_8);
        GrammarMatcher m = new GrammarMatcher(g);
        assertThat(m.accepts(new byte[] {e[0]})).isTrue();
        m.accept(new byte[] {e[0]});
        assertThat(m.accepts(new byte[] {(byte) 0xA0})).as("a different continuation byte: U+00E0").isFalse();
        m.accept(new byte[] {e[1], 'x'});
        assertThat(m.isComplete()).isTrue();
        // overlong encodings and surrogates are not UTF-8: F0 80 81 BD would otherwise decode to '}'
        GrammarMatcher brace = new GrammarMatcher(Grammar.parse("root ::= \"}\""));
        assertThat(brace.accepts(new byte[] {(byte) 0xF0, (byte) 0x80, (byte) 0x81, (byte) 0xBD})).isFalse();
        assertThat(brace.accepts(new byte[] {(byte) 0xF0, (byte) 0x80})).as("a prefix that can only be overlong").isFalse();
        assertThat(new GrammarMatcher(Grammar.parse("root ::= [^a]")).accepts(new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80})).isFalse();
        // a lead byte whose characters the class cannot hold is refused at once
        assertThat(new GrammarMatcher(Grammar.parse("root ::= [a-z]")).accepts(new byte[] {(byte) 0xE2})).isFalse();
    }

    /** Property: on random strings, the grammar agrees with an equivalent java.util.regex pattern. */
    @Test
    void agreesWithEquivalentRegularExpressions() {
        String[][] pairs = {
                {"root ::= (\"ab\" | [c-e]+){1,3} \"x\"?", "(ab|[c-e]+){1,3}x?"},
                {"root ::= [^a]* \"a\" [a-c]{2}", "[^a]*a[a-c]{2}"},
                {"root ::= ( \"a\" | \"b\" \"c\"* )+ ( \"d\" )?", "(a|bc*)+d?"},
                {"root ::= x y\nx ::= [a-b]{0,2}\ny ::= \"c\" | \"\"", "[a-b]{0,2}c?"},
                {"root ::= [a-d]{2,} \".\" .", "[a-d]{2,}\\.[^\\n]"},
        };
        SplittableRandom r = new SplittableRandom(11);
        String alphabet = "abcdex.\n";
        for (String[] p : pairs) {
            Grammar g = Grammar.parse(p[0]);
            Pattern re = Pattern.compile(p[1]);
            for (int i = 0; i < 3000; i++) {
                StringBuilder sb = new StringBuilder();
                int len = r.nextInt(8);
                for (int j = 0; j < len; j++) sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
                String s = sb.toString();
                assertThat(matches(g, s)).as("%s on '%s'", p[0], s).isEqualTo(re.matcher(s).matches());
            }
        }
    }

    @Test
    void allowedTokensEqualCheckingEveryTokenAlone() {
        Grammar g = Grammar.parse(JSON);
        String[] vocab = {"{", "}", "\"", "a", "ab", "\"a", "\":", ": ", "1", "12", "-", "true", "tr", "null", ",", " ", "[", "]", "é",
                new String(new byte[] {(byte) 0xC3}, StandardCharsets.ISO_8859_1), "\\", "\\n", "}}", "\"}", "x", "0.5"};
        byte[][] pieces = new byte[vocab.length + 1][];
        for (int i = 0; i < vocab.length; i++) {
            pieces[i] = i == 19 ? new byte[] {(byte) 0xC3} : vocab[i].getBytes(StandardCharsets.UTF_8);
        }
        pieces[vocab.length] = new byte[0]; // a control token
        TokenTrie trie = TokenTrie.of(pieces);
        for (String prefix : List.of("", "{", "{\"", "{\"a", "{\"a\":", "[1", "[tr", "\"é", "{\"a\": [")) {
            GrammarMatcher m = new GrammarMatcher(g);
            m.accept(prefix.getBytes(StandardCharsets.UTF_8));
            BitSet allowed = new BitSet();
            m.allowedTokens(trie, allowed);
            for (int t = 0; t < pieces.length; t++) {
                boolean expected = pieces[t].length > 0 && m.accepts(pieces[t]);
                assertThat(allowed.get(t)).as("prefix '%s', token '%s'", prefix, vocab.length > t ? vocab[t] : "(control)").isEqualTo(expected);
            }
        }
    }

    @Test
    void errorsNameTheProblemAndWhereItIs() {
        assertThatThrownBy(() -> Grammar.parse("root ::= \"abc")).isInstanceOf(GrammarException.class).hasMessageContaining("unterminated")
                .hasMessageContaining("line 1");
        assertThatThrownBy(() -> Grammar.parse("root ::= a\n")).hasMessageContaining("rule 'a' is used but not defined").hasMessageContaining("column 10");
        assertThatThrownBy(() -> Grammar.parse("root ::= \"a\"\nb = \"c\"")).hasMessageContaining("'::='").hasMessageContaining("line 2");
        assertThatThrownBy(() -> Grammar.parse("root ::= root \"a\" | \"b\"")).hasMessageContaining("left recursion");
        assertThatThrownBy(() -> Grammar.parse("root ::= \"\\q\"")).hasMessageContaining("unknown escape");
        assertThatThrownBy(() -> Grammar.parse("root ::= [z-a]")).hasMessageContaining("backwards");
        assertThatThrownBy(() -> Grammar.parse("root ::= \"a\"{3,1}")).hasMessageContaining("below the minimum");
        assertThatThrownBy(() -> Grammar.parse("r ::= \"a\"")).hasMessageContaining("no 'root' rule");
        assertThatThrownBy(() -> Grammar.parse("root ::= \"a\"\nroot ::= \"b\"")).hasMessageContaining("defined twice");
        assertThatThrownBy(() -> Grammar.parse("# only a comment\n")).hasMessageContaining("empty");
        assertThatThrownBy(() -> Grammar.parse("root ::= " + "\"a\"{0,10000} ".repeat(11))).hasMessageContaining("too large");
    }

    @Test
    void commentsAndLineContinuationsAfterBars() {
        Grammar g = Grammar.parse("""
                # a comment
                root ::= "a" |   # first
                         "b" ( "c"
                               | "d" )  # nested over lines
                """);
        assertThat(matches(g, "a")).isTrue();
        assertThat(matches(g, "bd")).isTrue();
        assertThat(matches(g, "b")).isFalse();
    }
}
