package io.jenkins.plugins.virtbackup.engine.log;

/** Message levels, numbered as syslog(3) numbers its priorities. */
public enum Severity {
    CRITICAL(2),
    ERROR(3),
    WARNING(4),
    NOTICE(5),
    INFO(6),
    DETAIL(7);

    private final int syslogPriority;

    Severity(int syslogPriority) {
        this.syslogPriority = syslogPriority;
    }

    public int syslogPriority() {
        return syslogPriority;
    }
}
