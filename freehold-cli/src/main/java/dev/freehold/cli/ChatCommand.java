package dev.freehold.cli;

import dev.freehold.core.chat.ChatTemplate;
import dev.freehold.core.chat.ChatTemplates;
import dev.freehold.core.format.gguf.GgufFile;
import dev.freehold.core.infer.Engine;
import dev.freehold.core.infer.EngineOptions;
import dev.freehold.core.infer.Generator;
import dev.freehold.core.infer.Sequence;
import dev.freehold.core.sample.Sampler;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "chat", mixinStandardHelpOptions = true,
        description = {"Chat with a model in the terminal, using its chat template (line editing, history, streaming).",
                "Ctrl-C stops the answer being written; Ctrl-D or /exit leaves; /reset starts a new conversation.",
                "With -p, answers one message and exits."},
        footer = {"", "Examples:", "  freehold chat -m llama-3.2-1b-instruct.gguf --system 'Answer briefly.'",
                "  freehold chat -m model.gguf -p 'What is the capital of France?' --temperature 0"})
final class ChatCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "MODEL", description = "a .gguf model file")
    Path model;

    @Option(names = "--system", description = "system message")
    String system;

    @Option(names = {"-p", "--prompt"}, description = "one message, answered non-interactively")
    String prompt;

    @Option(names = "--chat-template", paramLabel = "NAME", description = "use a built-in template instead of the model's: chatml, llama3, llama2, mistral, gemma, phi3")
    String templateName;

    @Option(names = {"-n", "--n-predict"}, defaultValue = "512", description = "tokens per answer at most (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = {"-t", "--threads"}, description = "worker threads (default: the machine's cores)")
    Integer threads;

    @Option(names = {"-c", "--ctx-size"}, defaultValue = "4096", description = "context to allocate, at most the model's (default: ${DEFAULT-VALUE})")
    int contextSize;

    @Mixin
    SamplingOptions sampling;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (threads != null && threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        if (contextSize < 16) throw new IllegalArgumentException("the context size must be at least 16, got " + contextSize);
        var params = sampling.params();
        ChatTemplate template;
        try (GgufFile f = GgufFile.open(model)) {
            template = ChatTemplates.forModel(f.metadata(), dev.freehold.core.tokenizer.Tokenizers.fromGguf(f), templateName);
        }
        EngineOptions options = threads == null ? EngineOptions.defaults() : EngineOptions.defaults().withThreads(threads);
        PrintWriter out = spec.commandLine().getOut();
        try (Engine engine = Engine.load(model, options)) {
            Conversation conv = new Conversation(engine, template, Math.min(contextSize, engine.config().contextLength()), system);
            Sampler sampler = new Sampler(params);
            if (prompt != null) {
                conv.answer(prompt, maxTokens, sampler, piece -> {
                    out.print(piece);
                    out.flush();
                }, () -> false);
                out.println();
                out.flush();
                return 0;
            }
            interactive(conv, sampler, out);
        }
        return 0;
    }

    private void interactive(Conversation conv, Sampler sampler, PrintWriter out) throws Exception {
        try (Terminal terminal = TerminalBuilder.builder().system(true).dumb(true).build()) {
            LineReader reader = LineReaderBuilder.builder().terminal(terminal).build();
            PrintWriter tw = terminal.writer();
            tw.println("Chatting with " + model.getFileName() + ". Ctrl-C stops an answer, Ctrl-D or /exit leaves, /reset starts over.");
            AtomicBoolean stop = new AtomicBoolean();
            while (true) {
                String line;
                try {
                    line = reader.readLine("> ");
                } catch (UserInterruptException e) {
                    continue; // Ctrl-C at the prompt clears the line
                } catch (EndOfFileException e) {
                    break;
                }
                String text = line.strip();
                if (text.isEmpty()) continue;
                if (text.equals("/exit") || text.equals("/quit")) break;
                if (text.equals("/reset")) {
                    conv.reset();
                    tw.println("(new conversation)");
                    continue;
                }
                stop.set(false);
                int droppedBefore = conv.droppedMessages();
                Terminal.SignalHandler previous = terminal.handle(Terminal.Signal.INT, s -> stop.set(true));
                try {
                    conv.answer(text, maxTokens, sampler, piece -> {
                        tw.print(piece);
                        tw.flush();
                    }, stop::get);
                } catch (IllegalArgumentException e) {
                    tw.print("\n(" + e.getMessage() + "; /reset starts a new conversation)");
                } finally {
                    terminal.handle(Terminal.Signal.INT, previous);
                }
                tw.println(stop.get() ? " [stopped]" : "");
                if (conv.droppedMessages() > droppedBefore) {
                    tw.println("(%d older messages left out to fit the context)".formatted(conv.droppedMessages() - droppedBefore));
                }
                tw.flush();
            }
        }
    }

    /**
     * A conversation whose prompt prefix stays in the KV cache between turns. The reusable prefix is read from the
     * sequence itself, so it stays right when a long answer shifted the context. When the conversation no longer
     * fits the context with room for an answer, its oldest turns are dropped (the system message stays), as Ollama
     * does; a single message too long for the context is refused with a clear error.
     */
    static final class Conversation {
        private final Engine engine;
        private final ChatTemplate template;
        private final String system;
        private final List<ChatTemplate.Message> messages = new ArrayList<>();
        private final Sequence seq;

        Conversation(Engine engine, ChatTemplate template, int capacity, String system) {
            this.engine = engine;
            this.template = template;
            this.system = system;
            this.seq = engine.newSequence(capacity);
            reset();
        }

        void reset() {
            messages.clear();
            if (system != null) messages.add(new ChatTemplate.Message("system", system));
            seq.truncate(0);
        }

        /** Turns dropped so far to keep the conversation within the context. */
        int droppedMessages() {
            return dropped;
        }

        private int dropped;

        String answer(String user, int maxTokens, Sampler sampler, java.util.function.Consumer<String> onText,
                      java.util.function.BooleanSupplier cancelled) {
            messages.add(new ChatTemplate.Message("user", user));
            // room for the answer: what was asked for, but at most a quarter of the context
            int room = Math.max(1, Math.min(maxTokens > 0 ? maxTokens : Integer.MAX_VALUE, seq.capacity() / 4));
            int first = system != null ? 1 : 0;
            int[] ids;
            while (true) {
                ids = engine.tokenizer().encode(template.renderPrompt(messages, true, Map.of()), true, true);
                if (ids.length + room <= seq.capacity()) break;
                if (messages.size() - first <= 1) {
                    messages.removeLast();
                    throw new IllegalArgumentException("the message takes %d tokens with the chat template; the context holds %d (-c)"
                            .formatted(ids.length, seq.capacity()));
                }
                // drop the oldest user message and the answer to it
                messages.remove(first);
                dropped++;
                if (messages.size() - first > 1 && messages.get(first).role().equals("assistant")) {
                    messages.remove(first);
                    dropped++;
                }
            }
            int[] cached = seq.tokens();
            int common = 0;
            while (common < cached.length && common < ids.length && cached[common] == ids[common]) common++;
            if (common == ids.length) common--; // at least one token must run, for its logits
            seq.truncate(common);
            Generator.Result r;
            try {
                r = Generator.continueSequence(engine, seq, Arrays.copyOfRange(ids, seq.length(), ids.length), maxTokens, sampler,
                        onText, cancelled);
            } catch (IllegalArgumentException e) {
                messages.removeLast();
                throw e;
            }
            messages.add(new ChatTemplate.Message("assistant", r.text()));
            return r.text();
        }
    }
}
