package jenkins.model;

import hudson.model.ModelObject;
import hudson.security.AccessControlled;
import org.jenkins.ui.icon.IconSpec;

public interface IComputer extends AccessControlled, IconSpec, ModelObject, Named {
}
