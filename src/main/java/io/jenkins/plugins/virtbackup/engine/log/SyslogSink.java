package io.jenkins.plugins.virtbackup.engine.log;

/** Where messages for the system log go. The native implementation lives in the adapter layer. */
@FunctionalInterface
public interface SyslogSink {

    /** Drops everything: for callers that have no system log, like unit tests. */
    SyslogSink NONE = (severity, message) -> { };

    void send(Severity severity, String message);
}
