package dev.freehold.core.chat;

import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A model's chat template (its {@code tokenizer.chat_template}, Jinja) bound to its BOS/EOS strings: turns a
 * conversation into the prompt text the model was trained on, as Hugging Face's {@code apply_chat_template} does.
 */
public final class ChatTemplate {
    /** One message: role (system, developer, user, assistant, tool) and text content; extra fields pass through. */
    public record Message(String role, String content, Map<String, Object> extra) {
        public Message(String role, String content) {
            this(role, content, Map.of());
        }

        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("role", role);
            m.put("content", content);
            m.putAll(extra);
            return m;
        }
    }

    private final JinjaTemplate template;
    private final String source;
    private final String bosToken;
    private final String eosToken;
    private final boolean supportsSystemRole;

    public ChatTemplate(String source, String bosToken, String eosToken) {
        this.template = JinjaTemplate.compile(source);
        this.source = source;
        this.bosToken = bosToken;
        this.eosToken = eosToken;
        this.supportsSystemRole = probeSystemRole();
    }

    /** Whether a system message comes out in the rendering (some templates refuse or drop it). */
    private boolean probeSystemRole() {
        String marker = "\u0001system-probe\u0001";
        try {
            return renderRaw(List.of(new Message("system", marker), new Message("user", "x")), false, Map.of()).contains(marker);
        } catch (TemplateException e) {
            return false;
        }
    }

    /** The template's Jinja text. */
    public String source() {
        return source;
    }

    public boolean supportsSystemRole() {
        return supportsSystemRole;
    }

    /**
     * @param addGenerationPrompt end with the opening of the assistant's turn
     * @param extra               more template variables (e.g. {@code tools}, {@code date_string})
     */
    public String render(List<Message> messages, boolean addGenerationPrompt, Map<String, Object> extra) {
        return renderRaw(supportsSystemRole ? messages : mergeSystemIntoUser(messages), addGenerationPrompt, extra);
    }

    /**
     * The prompt text for the tokenizer: as {@link #render}, without a leading BOS text, since the tokenizer adds BOS
     * itself (as llama.cpp does with rendered chat prompts).
     */
    public String renderPrompt(List<Message> messages, boolean addGenerationPrompt, Map<String, Object> extra) {
        String text = render(messages, addGenerationPrompt, extra);
        return bosToken != null && !bosToken.isEmpty() && text.startsWith(bosToken) ? text.substring(bosToken.length()) : text;
    }

    /** For templates without a system role: the system text opens the first user message (as llama.cpp does). */
    static List<Message> mergeSystemIntoUser(List<Message> messages) {
        List<Message> out = new ArrayList<>();
        StringBuilder pending = new StringBuilder();
        for (Message m : messages) {
            if (m.role().equals("system") || m.role().equals("developer")) {
                if (!pending.isEmpty()) pending.append('\n');
                pending.append(m.content());
            } else if (!pending.isEmpty() && m.role().equals("user")) {
                out.add(new Message("user", pending + "\n" + m.content(), m.extra()));
                pending.setLength(0);
            } else {
                out.add(m);
            }
        }
        if (!pending.isEmpty()) out.add(new Message("user", pending.toString()));
        return out;
    }

    private String renderRaw(List<Message> messages, boolean addGenerationPrompt, Map<String, Object> extra) {
        Map<String, Object> vars = new HashMap<>(extra);
        List<Object> list = new ArrayList<>();
        for (Message m : messages) list.add(m.toMap());
        vars.put("messages", list);
        vars.put("add_generation_prompt", addGenerationPrompt);
        vars.put("bos_token", bosToken == null ? "" : bosToken);
        vars.put("eos_token", eosToken == null ? "" : eosToken);
        vars.putIfAbsent("strftime_now", (Function<List<Object>, Object>) args ->
                Strftime.format(LocalDateTime.now(), args.isEmpty() ? "%Y-%m-%d" : JinjaRuntime.str(args.getFirst())));
        return template.render(vars);
    }

    public String render(List<Message> messages, boolean addGenerationPrompt) {
        return render(messages, addGenerationPrompt, Map.of());
    }
}
