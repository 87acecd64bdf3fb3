package dev.freehold.cli;

import dev.freehold.core.format.ModelFormatException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code freehold} command line. */
@Command(name = "freehold", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Run, adapt and inspect open-weight language models on your own hardware.",
        subcommands = {InspectCommand.class, ConvertCommand.class, QuantizeCommand.class, TokenizeCommand.class,
                DetokenizeCommand.class, GenerateCommand.class, ChatCommand.class, ServeCommand.class, EmbedCommand.class, BenchCommand.class, FixtureCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    /** Exit code for bad input: a malformed file, a wrong argument. */
    public static final int EXIT_BAD_INPUT = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        // The server logs through SLF4J (simple binding): its access log at info, the HTTP library's chatter only
        // when it matters. Users override any of these with -D.
        System.getProperties().putIfAbsent("org.slf4j.simpleLogger.defaultLogLevel", "info");
        System.getProperties().putIfAbsent("org.slf4j.simpleLogger.log.org.eclipse.jetty", "warn");
        System.getProperties().putIfAbsent("org.slf4j.simpleLogger.log.io.javalin", "warn");
        System.getProperties().putIfAbsent("org.slf4j.simpleLogger.showDateTime", "true");
        System.getProperties().putIfAbsent("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSZ");
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line with the given streams and returns the exit code (for tests and embedding). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> report(e, commandLine.getErr()));
        return cl.execute(args);
    }

    /** One line naming what went wrong; a stack trace only when FREEHOLD_DEBUG is set or the error is ours. */
    static int report(Exception e, PrintWriter err) {
        Throwable cause = e;
        while (cause.getCause() != null && (cause instanceof java.io.UncheckedIOException || cause instanceof java.util.concurrent.CompletionException)) {
            cause = cause.getCause();
        }
        boolean debug = System.getenv("FREEHOLD_DEBUG") != null;
        int code;
        String message;
        switch (cause) {
            case ModelFormatException m -> {
                code = EXIT_BAD_INPUT;
                message = m.getMessage();
            }
            case NoSuchFileException n -> {
                code = EXIT_BAD_INPUT;
                message = n.getFile() + ": no such file";
            }
            case AccessDeniedException a -> {
                code = EXIT_BAD_INPUT;
                message = a.getFile() + ": permission denied";
            }
            case FileAlreadyExistsException f -> {
                code = EXIT_BAD_INPUT;
                message = f.getFile() + ": already exists";
            }
            case IllegalArgumentException i -> {
                code = EXIT_BAD_INPUT;
                message = i.getMessage();
            }
            case IOException io -> {
                code = 1;
                message = "I/O error: " + io.getMessage();
            }
            default -> {
                code = 1;
                message = "internal error: " + cause + " (set FREEHOLD_DEBUG=1 for details, and please report it)";
            }
        }
        err.println("freehold: " + message);
        if (debug) cause.printStackTrace(err);
        err.flush();
        return code;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"freehold " + (v == null ? "development build" : v),
                    "Java " + Runtime.version() + " (" + System.getProperty("java.vm.name") + ")"};
        }
    }
}
