package io.jenkins.plugins.virtbackup.jenkins;

import hudson.util.FormValidation;
import hudson.util.ListBoxModel;

/** What the two descriptors' form methods share: the check messages of {@link Fields} as form answers. */
final class Forms {
    private Forms() {
    }

    static FormValidation check(String problem) {
        return problem == null ? FormValidation.ok() : FormValidation.error(problem);
    }

    static ListBoxModel modeItems() {
        ListBoxModel items = new ListBoxModel();
        for (String mode : Fields.availableModes()) {
            items.add(mode, mode);
        }
        return items;
    }

    static ListBoxModel levelItems() {
        ListBoxModel items = new ListBoxModel();
        for (String level : Fields.levels()) {
            items.add(level, level);
        }
        return items;
    }
}
