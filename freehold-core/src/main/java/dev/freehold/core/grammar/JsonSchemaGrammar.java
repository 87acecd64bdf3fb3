package dev.freehold.core.grammar;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A JSON Schema as a GBNF grammar whose sentences are the JSON documents the schema accepts (for the keywords
 * supported), written with llama.cpp's conventions so that both accept the same documents: objects list required
 * properties first, then optional ones, each in schema order; whitespace between tokens is none, a space, or one or
 * two line breaks and up to 20 spaces or tabs; integral parts have at most 16 digits.
 *
 * <p>Supported: {@code type} (one or several), {@code properties}, {@code required}, {@code additionalProperties},
 * {@code items}, {@code prefixItems}, {@code minItems}/{@code maxItems}, {@code minLength}/{@code maxLength},
 * {@code enum}, {@code const}, {@code anyOf}/{@code oneOf}, {@code $ref} into {@code $defs} or {@code definitions},
 * string {@code format} date, time, date-time and uuid, and {@code pattern} (a regular-expression subset: literals,
 * classes, {@code .}, groups, alternation and quantifiers). Annotations ({@code title}, {@code description},
 * {@code $schema}, {@code default}, {@code examples}, ...) are ignored. Constraints that a grammar here would not
 * enforce ({@code minimum}, {@code multipleOf}, {@code not}, {@code if}, {@code allOf}, ...) are refused by name.
 */
public final class JsonSchemaGrammar {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> REFUSED = Set.of("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
            "not", "if", "then", "else", "allOf", "patternProperties", "dependentRequired", "dependentSchemas",
            "propertyNames", "minProperties", "maxProperties", "uniqueItems", "contains", "minContains", "maxContains",
            "unevaluatedProperties", "unevaluatedItems");
    private static final Set<String> FORMATS = Set.of("date", "time", "date-time", "uuid");

    private final JsonNode rootSchema;
    private final Map<String, String> rules = new LinkedHashMap<>();
    private final Map<String, String> refRules = new LinkedHashMap<>();
    private int counter;

    private JsonSchemaGrammar(JsonNode rootSchema) {
        this.rootSchema = rootSchema;
    }

    /** The GBNF text for {@code schema}; throws {@link GrammarException} naming what is not supported. */
    public static String toGbnf(JsonNode schema) {
        JsonSchemaGrammar c = new JsonSchemaGrammar(schema);
        String root = c.visit(schema, "root");
        c.rules.put("root", root);
        c.addPrimitives();
        StringBuilder sb = new StringBuilder();
        // root first, then the rest in the order they were made
        sb.append("root ::= ").append(c.rules.get("root")).append('\n');
        for (var e : c.rules.entrySet()) if (!e.getKey().equals("root")) sb.append(e.getKey()).append(" ::= ").append(e.getValue()).append('\n');
        return sb.toString();
    }

    public static String toGbnf(String schemaJson) {
        try {
            return toGbnf(JSON.readTree(schemaJson));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new GrammarException("the JSON schema is not valid JSON: " + e.getOriginalMessage());
        }
    }

    /** A grammar for any JSON object (OpenAI's {@code json_object} mode, Ollama's {@code "json"}). */
    public static String anyObject() {
        return toGbnf(JSON.createObjectNode().put("type", "object"));
    }

    // ------------------------------------------------------------------------------------------------ visiting

    /** The right-hand side for {@code schema}; {@code hint} names helper rules. */
    private String visit(JsonNode schema, String hint) {
        if (schema == null || schema.isBoolean() && schema.asBoolean() || schema.isObject() && schema.isEmpty()) return ref("value");
        if (schema.isBoolean()) throw new GrammarException("a 'false' schema accepts nothing");
        if (!schema.isObject()) throw new GrammarException("a schema must be an object, found " + schema.getNodeType());
        for (Iterator<String> it = schema.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (REFUSED.contains(k)) throw new GrammarException("the JSON schema keyword '" + k + "' is not supported");
        }
        if (schema.has("$ref")) return ref(refRule(schema.get("$ref").asText()));
        if (schema.has("const")) return literal(schema.get("const")) + " space";
        if (schema.has("enum")) {
            JsonNode e = schema.get("enum");
            if (!e.isArray() || e.isEmpty()) throw new GrammarException("'enum' must be a non-empty array");
            List<String> alts = new ArrayList<>();
            for (JsonNode v : e) alts.add(literal(v));
            return "(" + String.join(" | ", alts) + ") space";
        }
        for (String key : List.of("anyOf", "oneOf")) {
            if (schema.has(key)) {
                JsonNode list = schema.get(key);
                if (!list.isArray() || list.isEmpty()) throw new GrammarException("'" + key + "' must be a non-empty array");
                List<String> alts = new ArrayList<>();
                int i = 0;
                for (JsonNode s : list) alts.add(rule(hint + "-" + i++, visit(s, hint + "-" + (i - 1))));
                return String.join(" | ", alts);
            }
        }
        JsonNode type = schema.get("type");
        if (type != null && type.isArray()) {
            List<String> alts = new ArrayList<>();
            for (JsonNode t : type) {
                var copy = schema.deepCopy();
                ((com.fasterxml.jackson.databind.node.ObjectNode) copy).set("type", t);
                alts.add(rule(hint + "-" + t.asText(), visit(copy, hint + "-" + t.asText())));
            }
            return String.join(" | ", alts);
        }
        String t = type == null ? inferType(schema) : type.asText();
        return switch (t) {
            case "object" -> object(schema, hint);
            case "array" -> array(schema, hint);
            case "string" -> string(schema, hint);
            case "number" -> ref("number");
            case "integer" -> ref("integer");
            case "boolean" -> ref("boolean");
            case "null" -> ref("null");
            case "any" -> ref("value");
            default -> throw new GrammarException("unknown JSON schema type '" + t + "'");
        };
    }

    private static String inferType(JsonNode s) {
        if (s.has("properties") || s.has("additionalProperties") || s.has("required")) return "object";
        if (s.has("items") || s.has("prefixItems") || s.has("minItems") || s.has("maxItems")) return "array";
        if (s.has("pattern") || s.has("format") || s.has("minLength") || s.has("maxLength")) return "string";
        return "any";
    }

    private String object(JsonNode s, String hint) {
        JsonNode props = s.get("properties");
        JsonNode additional = s.get("additionalProperties");
        Set<String> required = new java.util.LinkedHashSet<>();
        if (s.has("required")) for (JsonNode r : s.get("required")) required.add(r.asText());
        for (String r : required) {
            if (props == null || !props.has(r)) throw new GrammarException("'required' names '" + r + "', which is not among the properties");
        }
        if (props == null || props.isEmpty()) {
            if (additional == null || additional.isBoolean() && additional.asBoolean()) return ref("object");
        }
        List<String> req = new ArrayList<>();
        List<String> opt = new ArrayList<>();
        if (props != null) {
            for (Iterator<String> it = props.fieldNames(); it.hasNext(); ) {
                String name = it.next();
                String value = visit(props.get(name), hint + "-" + sanitize(name));
                String kv = rule(hint + "-" + sanitize(name) + "-kv", literal(JSON.getNodeFactory().textNode(name)) + " space \":\" space " + group(value));
                (required.contains(name) ? req : opt).add(kv);
            }
        }
        for (String r : required) {
            if (props == null || !props.has(r)) throw new GrammarException("'required' names '" + r + "', which is not among the properties");
        }
        String extra = null;
        if (additional != null && !(additional.isBoolean() && !additional.asBoolean())) {
            String valueRule = additional.isBoolean() ? ref("value") : visit(additional, hint + "-additional");
            extra = rule(hint + "-additional-kv", ref("string") + " \":\" space " + group(valueRule));
            opt.add(extra);
        }
        StringBuilder sb = new StringBuilder("\"{\" space ");
        for (int i = 0; i < req.size(); i++) {
            if (i > 0) sb.append("\",\" space ");
            sb.append(req.get(i)).append(' ');
        }
        if (!opt.isEmpty()) {
            String tail = optionalTail(opt, extra, hint);
            if (req.isEmpty()) sb.append("( ").append(tail).append(" )? ");
            else sb.append("( \",\" space ( ").append(tail).append(" ) )? ");
        }
        sb.append("\"}\" space");
        return sb.toString();
    }

    /**
     * Any in-order subsequence (non-empty) of the optional properties, comma-separated; the additional-properties
     * pair (last) may repeat.
     */
    private String optionalTail(List<String> opt, String extra, String hint) {
        // rest_i ::= opt_i ( "," space rest_{i+1} )? | rest_{i+1}  -- written from the end
        String next = null;
        for (int i = opt.size() - 1; i >= 0; i--) {
            String kv = opt.get(i);
            String self = kv.equals(extra) ? kv + " ( \",\" space " + kv + " )*" : kv;
            String body = next == null ? self : self + " ( \",\" space " + ref(next) + " )? | " + ref(next);
            next = rule(hint + "-rest-" + i, body);
        }
        return ref(next);
    }

    private String array(JsonNode s, String hint) {
        JsonNode prefix = s.get("prefixItems");
        if (prefix != null && prefix.isArray()) {
            StringBuilder sb = new StringBuilder("\"[\" space ");
            int i = 0;
            for (JsonNode item : prefix) {
                if (i > 0) sb.append("\",\" space ");
                sb.append(group(visit(item, hint + "-" + i))).append(' ');
                i++;
            }
            return sb.append("\"]\" space").toString();
        }
        String item = group(visit(s.get("items"), hint + "-item"));
        int min = s.has("minItems") ? s.get("minItems").asInt() : 0;
        int max = s.has("maxItems") ? s.get("maxItems").asInt() : -1;
        if (min < 0 || (max >= 0 && max < min)) throw new GrammarException("minItems/maxItems are inconsistent");
        String list;
        if (max == 0) {
            list = "";
        } else {
            String more = "( \",\" space " + item + " )" + repeat(Math.max(0, min - 1), max < 0 ? -1 : max - 1);
            String some = item + " " + more;
            list = min == 0 ? "( " + some + " )?" : some;
        }
        return "\"[\" space " + list + " \"]\" space";
    }

    private String string(JsonNode s, String hint) {
        if (s.has("format")) {
            String f = s.get("format").asText();
            if (!FORMATS.contains(f)) throw new GrammarException("string format '" + f + "' is not supported (supported: " + FORMATS + ")");
            return "\"\\\"\" " + ref(f.equals("date-time") ? "date-time" : f) + " \"\\\"\" space";
        }
        if (s.has("pattern")) {
            String body = new RegexToGbnf(s.get("pattern").asText()).convert();
            return "\"\\\"\" " + rule(hint + "-pattern", body) + " \"\\\"\" space";
        }
        int min = s.has("minLength") ? s.get("minLength").asInt() : 0;
        int max = s.has("maxLength") ? s.get("maxLength").asInt() : -1;
        if (min == 0 && max < 0) return ref("string");
        if (min < 0 || (max >= 0 && max < min)) throw new GrammarException("minLength/maxLength are inconsistent");
        return "\"\\\"\" " + ref("char") + repeat(min, max) + " \"\\\"\" space";
    }

    private static String repeat(int min, int max) {
        if (max < 0) return min == 0 ? "*" : min == 1 ? "+" : "{" + min + ",}";
        if (min == max) return "{" + min + "}";
        return "{" + min + "," + max + "}";
    }

    private String refRule(String ref) {
        String known = refRules.get(ref);
        if (known != null) return known;
        String prefix;
        if (ref.startsWith("#/$defs/")) prefix = "#/$defs/";
        else if (ref.startsWith("#/definitions/")) prefix = "#/definitions/";
        else if (ref.equals("#")) prefix = "#";
        else throw new GrammarException("$ref '" + ref + "' is not supported: only references into $defs or definitions of the same schema");
        JsonNode target = prefix.equals("#") ? rootSchema : rootSchema.path(prefix.equals("#/$defs/") ? "$defs" : "definitions").get(ref.substring(prefix.length()));
        if (target == null) throw new GrammarException("$ref '" + ref + "' points to nothing");
        String name = "ref-" + sanitize(ref.substring(Math.min(ref.length(), prefix.length())));
        if (name.equals("ref-")) name = "ref-root";
        refRules.put(ref, name);
        rules.put(name, "");
        rules.put(name, visit(target, name));
        return name;
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private String rule(String hint, String body) {
        String name = sanitize(hint);
        if (rules.containsKey(name)) {
            if (rules.get(name).equals(body)) return name;
            name = name + "-" + ++counter;
        }
        rules.put(name, body);
        return name;
    }

    private static String ref(String name) {
        return name;
    }

    private static String group(String body) {
        return body.matches("[a-zA-Z0-9-]+") ? body : "( " + body + " )";
    }

    private static String sanitize(String s) {
        String r = s.replaceAll("[^a-zA-Z0-9-]+", "-");
        return r.isEmpty() ? "x" : r;
    }

    /** A JSON value written compactly, as a GBNF string literal. */
    private static String literal(JsonNode v) {
        String text;
        try {
            text = JSON.writeValueAsString(v);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new GrammarException("cannot write " + v);
        }
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> sb.append(c);
            }
        }
        return sb.append('"').toString();
    }

    private void addPrimitives() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("space", "| \" \" | \"\\n\"{1,2} [ \\t]{0,20}");
        p.put("boolean", "(\"true\" | \"false\") space");
        p.put("null", "\"null\" space");
        p.put("integral-part", "[0] | [1-9] [0-9]{0,15}");
        p.put("decimal-part", "[0-9]{1,16}");
        p.put("number", "(\"-\"? integral-part) (\".\" decimal-part)? ([eE] [-+]? integral-part)? space");
        p.put("integer", "(\"-\"? integral-part) space");
        p.put("char", "[^\"\\\\\\x7F\\x00-\\x1F] | [\\\\] ([\"\\\\bfnrt] | \"u\" [0-9a-fA-F]{4})");
        p.put("string", "\"\\\"\" char* \"\\\"\" space");
        p.put("value", "object | array | string | number | boolean | null");
        p.put("object", "\"{\" space ( string \":\" space value (\",\" space string \":\" space value)* )? \"}\" space");
        p.put("array", "\"[\" space ( value (\",\" space value)* )? \"]\" space");
        p.put("date", "[0-9]{4} \"-\" ( \"0\" [1-9] | \"1\" [0-2] ) \"-\" ( \"0\" [1-9] | [1-2] [0-9] | \"3\" [0-1] )");
        p.put("time", "([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9] \":\" [0-5] [0-9] ( \".\" [0-9]{3} )? ( \"Z\" | ( \"+\" | \"-\" ) ( [01] [0-9] | \"2\" [0-3] ) \":\" [0-5] [0-9] )");
        p.put("date-time", "date \"T\" time");
        p.put("uuid", "[0-9a-fA-F]{8} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{12}");
        for (var e : p.entrySet()) rules.putIfAbsent(e.getKey(), e.getValue());
    }
}
