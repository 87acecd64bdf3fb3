package dev.freehold.core.chat;

import dev.freehold.core.format.gguf.GgufValue;
import dev.freehold.core.model.GgufKeys;
import dev.freehold.core.tokenizer.Tokenizer;
import dev.freehold.core.tokenizer.Vocabulary;
import java.util.Map;
import java.util.TreeMap;

/** Finds a model's chat template, or one of the common formats by name for models that carry none. */
public final class ChatTemplates {
    private ChatTemplates() {
    }

    /** Our own renderings of common chat formats (not copies of any model's template). */
    private static final Map<String, String> BUILT_IN = new TreeMap<>(Map.of(
            "chatml", "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
                    + "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}",
            "llama3", "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m.role }}<|end_header_id|>\n\n"
                    + "{{ m.content | trim }}<|eot_id|>{% endfor %}"
                    + "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}",
            "llama2", "{% set ns = namespace(system='') %}{% for m in messages %}{% if m.role == 'system' %}"
                    + "{% set ns.system = '<<SYS>>\\n' ~ m.content ~ '\\n<</SYS>>\\n\\n' %}{% elif m.role == 'user' %}"
                    + "{{ bos_token }}[INST] {{ ns.system }}{{ m.content | trim }} [/INST]{% set ns.system = '' %}"
                    + "{% elif m.role == 'assistant' %} {{ m.content | trim }} {{ eos_token }}{% endif %}{% endfor %}",
            "mistral", "{{ bos_token }}{% for m in messages %}{% if m.role == 'user' %}[INST] {{ m.content }} [/INST]"
                    + "{% elif m.role == 'assistant' %}{{ m.content }}{{ eos_token }}{% endif %}{% endfor %}",
            "gemma", "{{ bos_token }}{% for m in messages %}{% if m.role != 'system' %}<start_of_turn>"
                    + "{{ 'model' if m.role == 'assistant' else m.role }}\n{{ m.content | trim }}<end_of_turn>\n{% endif %}"
                    + "{% endfor %}{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}",
            "phi3", "{% for m in messages %}<|{{ m.role }}|>\n{{ m.content }}<|end|>\n{% endfor %}"
                    + "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"));

    public static java.util.Set<String> builtInNames() {
        return BUILT_IN.keySet();
    }

    /**
     * The template to use: the named built-in one if {@code name} is given, else the model's
     * {@code tokenizer.chat_template}; BOS/EOS strings come from the tokenizer.
     */
    public static ChatTemplate forModel(Map<String, GgufValue> metadata, Tokenizer tokenizer, String name) {
        Vocabulary v = tokenizer.vocabulary();
        String bos = v.bos() >= 0 ? v.piece(v.bos()) : "";
        String eos = v.eos() >= 0 ? v.piece(v.eos()) : "";
        String source;
        if (name != null) {
            source = BUILT_IN.get(name);
            if (source == null) throw new TemplateException("no built-in chat template '" + name + "'; there are " + BUILT_IN.keySet());
        } else {
            GgufValue t = metadata.get(GgufKeys.CHAT_TEMPLATE);
            if (t == null || !(t.value() instanceof String s)) {
                throw new TemplateException("the model has no chat template; choose one of " + BUILT_IN.keySet() + " with --chat-template");
            }
            source = s;
        }
        return new ChatTemplate(source, bos, eos);
    }
}
