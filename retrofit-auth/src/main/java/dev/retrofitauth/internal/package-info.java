/**
 * Not API: types that the library's own packages share. They may change or disappear in any
 * release; applications must not use them.
 */
@NullMarked
package dev.retrofitauth.internal;

import org.jspecify.annotations.NullMarked;
