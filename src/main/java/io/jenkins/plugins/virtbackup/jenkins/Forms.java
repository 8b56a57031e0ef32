package io.jenkins.plugins.virtbackup.jenkins;

import hudson.util.FormValidation;
import hudson.util.ListBoxModel;
import java.util.List;

/** What the two descriptors' form methods share: the check messages of {@link Fields} as form answers. */
final class Forms {
    private Forms() {
    }

    static FormValidation check(String problem) {
        return problem == null ? FormValidation.ok() : FormValidation.error(problem);
    }

    /** The domain field: required unless a list of domains or all domains stand in for it. */
    static FormValidation checkDomain(String domain, String domains, boolean allDomains) {
        List<String> several = Fields.diskNames(List.of(domains == null ? "" : domains));
        String choice = Fields.domainChoiceProblem(domain, several, allDomains);
        if (choice != null) {
            return FormValidation.error(choice);
        }
        return several.isEmpty() && !allDomains ? check(Fields.domainProblem(domain)) : FormValidation.ok();
    }

    /**
     * The mode: an unknown one is an error; options the mode does not use (quiesce, an overlay
     * directory) are a warning under it, as the engine runs anyway and ignores them.
     */
    static FormValidation checkMode(String mode, boolean quiesce, String overlayDir) {
        String problem = Fields.modeProblem(mode);
        if (problem != null) {
            return FormValidation.error(problem);
        }
        String unused = Fields.unusedInModeProblem(mode, quiesce, overlayDir);
        return unused == null ? FormValidation.ok() : FormValidation.warning(unused);
    }

    /**
     * The snapshot size: one that is no size, or 0, is an error; one the mode does not use is a
     * warning under it, as the step then leaves it out and runs.
     */
    static FormValidation checkSnapshotSize(String size, String mode) {
        String problem = Fields.snapshotSizeProblem(size);
        if (problem != null) {
            return FormValidation.error(problem);
        }
        String unused = Fields.snapshotSizeUnusedProblem(mode, size);
        return unused == null ? FormValidation.ok() : FormValidation.warning(unused);
    }

    /** The restore test's proofs, after an empty choice: the strongest the clone allows, as the engine picks. */
    static ListBoxModel proofItems() {
        ListBoxModel items = new ListBoxModel();
        items.add(Messages.Forms_strongestProof(), "");
        for (String proof : Fields.lifeProofs()) {
            items.add(proof, proof);
        }
        return items;
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
