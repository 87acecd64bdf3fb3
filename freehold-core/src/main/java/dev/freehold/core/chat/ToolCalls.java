package dev.freehold.core.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.freehold.core.grammar.JsonSchemaGrammar;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tool (function) calls in the form a model's chat template teaches it: Hermes/Qwen2.5's
 * {@code <tool_call>{"name":..., "arguments":{...}}</tool_call>}, Llama 3.1/3.2's bare JSON
 * {@code {"name":..., "parameters":{...}}}, and Mistral's {@code [TOOL_CALLS] [{"name":..., "arguments":{...}}]}.
 * For a format: the grammar that forces a valid call (when a call is required), and the parser that turns generated
 * text into calls; text that is not a well-formed call of a known tool stays text.
 */
public final class ToolCalls {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ToolCalls() {
    }

    /** A tool as the request declares it: a JSON Schema for its parameters. */
    public record Tool(String name, String description, JsonNode parameters) {
    }

    /** A parsed call: the tool's name and its arguments as a JSON object's text. */
    public record Call(String name, String arguments) {
    }

    /** Text before the calls (often none) and the calls. */
    public record Parsed(String content, List<Call> calls) {
    }

    public enum Format {
        /** Hermes / Qwen2.5: tool_call tags around a JSON object with name and arguments; also for templates without tools. */
        HERMES("arguments"),
        /** Llama 3.1 / 3.2: one JSON object with name and parameters. */
        LLAMA3_JSON("parameters"),
        /** Mistral v0.3: [TOOL_CALLS] then a JSON array of objects with name and arguments. */
        MISTRAL("arguments");

        final String argumentsKey;

        Format(String argumentsKey) {
            this.argumentsKey = argumentsKey;
        }
    }

    /** The text a call in this format starts with: once a model writes it, the call grammar applies (auto mode). */
    public static String trigger(Format format) {
        return switch (format) {
            case HERMES -> "<tool_call>";
            case LLAMA3_JSON -> "{\"name\"";
            case MISTRAL -> "[TOOL_CALLS]";
        };
    }

    /** The format a template teaches, from its text. */
    public static Format detect(String templateSource) {
        if (templateSource.contains("[TOOL_CALLS]")) return Format.MISTRAL;
        if (templateSource.contains("<tool_call>")) return Format.HERMES;
        if (templateSource.contains("\"parameters\"") && templateSource.contains("tools")) return Format.LLAMA3_JSON;
        return Format.HERMES;
    }

    /** Whether the template renders the {@code tools} it is given (otherwise they are described in a system message). */
    public static boolean templateRendersTools(String templateSource) {
        return templateSource.contains("tools");
    }

    /**
     * The template variables for rendering with tools: {@code tools}, and for Llama 3.x templates
     * {@code tools_in_user_message = false}, so the tools go to the system message as llama.cpp renders them (the
     * template's own default puts them in the first user message).
     */
    public static java.util.Map<String, Object> templateVariables(String templateSource, List<Object> tools) {
        java.util.Map<String, Object> vars = new java.util.LinkedHashMap<>();
        vars.put("tools", tools);
        if (detect(templateSource) == Format.LLAMA3_JSON) vars.put("tools_in_user_message", false);
        return vars;
    }

    /** A system message describing the tools, for templates that do not render them (the Hermes convention). */
    public static String instructions(List<Tool> tools) {
        StringBuilder sb = new StringBuilder("You may call one or more functions to assist with the user query.\n\n"
                + "You are provided with function signatures within <tools></tools> XML tags:\n<tools>");
        for (Tool t : tools) sb.append('\n').append(toolJson(t));
        sb.append("\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
                + "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call>");
        return sb.toString();
    }

    /** A tool as chat templates expect it: {type: function, function: {name, description, parameters}}. */
    public static ObjectNode toolJson(Tool t) {
        ObjectNode o = JSON.createObjectNode().put("type", "function");
        ObjectNode f = o.putObject("function").put("name", t.name());
        if (t.description() != null) f.put("description", t.description());
        f.set("parameters", t.parameters() == null ? JSON.createObjectNode().put("type", "object") : t.parameters());
        return o;
    }

    /**
     * GBNF that accepts exactly well-formed calls in this format of the given tools (several, if {@code parallel}),
     * their arguments valid for the tools' parameter schemas.
     */
    public static String grammar(Format format, List<Tool> tools, boolean parallel) {
        if (tools.isEmpty()) throw new IllegalArgumentException("no tools to call");
        ArrayNode anyOf = JSON.createArrayNode();
        for (Tool t : tools) {
            ObjectNode call = anyOf.addObject().put("type", "object");
            ObjectNode props = call.putObject("properties");
            props.putObject("name").put("const", t.name());
            props.set(format.argumentsKey, t.parameters() == null ? JSON.createObjectNode().put("type", "object") : t.parameters());
            call.putArray("required").add("name").add(format.argumentsKey);
            call.put("additionalProperties", false);
        }
        ObjectNode schema = JSON.createObjectNode();
        schema.set("anyOf", anyOf);
        String calls = JsonSchemaGrammar.toGbnf(schema).replaceFirst("(?m)^root ::= ", "call ::= ");
        String root = switch (format) {
            case HERMES -> parallel ? "root ::= tagged (\"\\n\" tagged)*\ntagged ::= \"<tool_call>\\n\" call \"\\n</tool_call>\"\n"
                    : "root ::= \"<tool_call>\\n\" call \"\\n</tool_call>\"\n";
            case LLAMA3_JSON -> "root ::= call\n";
            case MISTRAL -> parallel ? "root ::= \"[TOOL_CALLS]\" space \"[\" space call (\",\" space call)* \"]\"\n"
                    : "root ::= \"[TOOL_CALLS]\" space \"[\" space call \"]\"\n";
        };
        return root + calls;
    }

    private static final Pattern HERMES_CALL = Pattern.compile("<tool_call>\\s*(\\{.*?\\})\\s*</tool_call>", Pattern.DOTALL);

    /** The calls in generated text, if it holds well-formed calls of known tools; empty otherwise. */
    public static Optional<Parsed> parse(Format format, String text, List<Tool> tools) {
        try {
            return switch (format) {
                case HERMES -> {
                    // a call opens the answer (after whitespace), as streaming decides it; text first stays text
                    int first = text.indexOf("<tool_call>");
                    if (first < 0 || !text.substring(0, first).isBlank()) yield Optional.empty();
                    Matcher m = HERMES_CALL.matcher(text);
                    List<Call> calls = new ArrayList<>();
                    int end = first;
                    while (m.find()) {
                        if (!text.substring(end, m.start()).isBlank()) yield Optional.empty();
                        Call c = call(JSON.readTree(m.group(1)), "arguments", tools);
                        if (c == null) yield Optional.empty();
                        calls.add(c);
                        end = m.end();
                    }
                    if (calls.isEmpty() || !text.substring(end).isBlank()) yield Optional.empty();
                    String content = text.substring(0, first).strip();
                    yield Optional.of(new Parsed(content.isEmpty() ? null : content, calls));
                }
                case LLAMA3_JSON -> {
                    String t = text.strip();
                    if (t.startsWith("<|python_tag|>")) t = t.substring("<|python_tag|>".length()).strip();
                    if (!t.startsWith("{")) yield Optional.empty();
                    JsonNode n = JSON.readTree(t);
                    Call c = call(n, n.has("parameters") ? "parameters" : "arguments", tools);
                    yield c == null ? Optional.empty() : Optional.of(new Parsed(null, List.of(c)));
                }
                case MISTRAL -> {
                    String t = text.strip();
                    if (!t.startsWith("[TOOL_CALLS]")) yield Optional.empty();
                    JsonNode arr = JSON.readTree(t.substring("[TOOL_CALLS]".length()).strip());
                    if (!arr.isArray() || arr.isEmpty()) yield Optional.empty();
                    List<Call> calls = new ArrayList<>();
                    for (JsonNode n : arr) {
                        Call c = call(n, "arguments", tools);
                        if (c == null) yield Optional.empty();
                        calls.add(c);
                    }
                    yield Optional.of(new Parsed(null, calls));
                }
            };
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return Optional.empty();
        }
    }

    private static Call call(JsonNode n, String argumentsKey, List<Tool> tools) {
        if (n == null || !n.isObject() || !n.path("name").isTextual()) return null;
        String name = n.get("name").asText();
        if (tools.stream().noneMatch(t -> t.name().equals(name))) return null;
        JsonNode args = n.get(argumentsKey);
        if (args == null || !args.isObject()) return null;
        return new Call(name, args.toString());
    }
}
