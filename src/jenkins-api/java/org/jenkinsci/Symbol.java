package org.jenkinsci;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The real one is meta-annotated with annotation-indexer's {@code @Indexed} (not on Maven Central); its
 * index, {@code META-INF/services/annotations/org.jenkinsci.Symbol}, is a checked resource of ours instead.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@Documented
public @interface Symbol {
    String[] value();
}
