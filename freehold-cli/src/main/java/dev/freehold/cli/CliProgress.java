package dev.freehold.cli;

import dev.freehold.core.util.ProgressListener;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** Shows progress on stderr: a live bar on a terminal, a line every few seconds otherwise (logs, CI). */
final class CliProgress implements ProgressListener {
    private final boolean quiet;
    private ProgressBar bar;

    CliProgress(boolean quiet) {
        this.quiet = quiet;
    }

    @Override
    public void start(String task, long total, String unit) {
        if (quiet) return;
        boolean terminal = System.console() != null;
        ProgressBarBuilder b = new ProgressBarBuilder().setTaskName(task).setInitialMax(total)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(terminal ? 200 : 5000).showSpeed();
        if ("B".equals(unit)) b.setUnit(" MiB", 1L << 20);
        b.setConsumer(terminal ? new ConsoleProgressBarConsumer(System.err) : new DelegatingProgressBarConsumer(System.err::println));
        bar = b.build();
    }

    @Override
    public void advanceTo(long done) {
        if (bar != null) bar.stepTo(done);
    }

    @Override
    public void finish() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }
}
