package io.jenkins.plugins.virtbackup.engine;

/** A domain's name and UUID, as its definition gives them. */
public record DomainIdentity(String name, String uuid) {
}
