package dev.retrofitauth;

import java.io.IOException;

/** Tells every {@link AuthListener} about an event, one method per event. */
final class Listeners {
  private final AuthListener[] listeners;

  Listeners(AuthListener[] listeners) {
    this.listeners = listeners;
  }

  /** True if the app registered no listener: an event nobody hears is lost. */
  boolean none() {
    return listeners.length == 0;
  }

  void signedIn() {
    fire(AuthListener::onSignedIn);
  }

  void refreshStarted() {
    fire(AuthListener::onRefreshStarted);
  }

  void refreshed() {
    fire(AuthListener::onRefreshed);
  }

  void refreshFailed(IOException cause) {
    fire(listener -> listener.onRefreshFailed(cause));
  }

  void signedOut(AuthListener.SignOutReason reason) {
    fire(listener -> listener.onSignedOut(reason));
  }

  void noRefreshPossible() {
    fire(AuthListener::onNoRefreshPossible);
  }

  void stepUpRequired(StepUpChallenge challenge) {
    fire(listener -> listener.onStepUpRequired(challenge));
  }

  void revokeFailed(IOException cause) {
    fire(listener -> listener.onRevokeFailed(cause));
  }

  void storeFailed(Exception cause) {
    fire(listener -> listener.onStoreFailed(cause));
  }

  private interface Event {
    void deliver(AuthListener listener);
  }

  /**
   * Tells every listener. One that throws must not keep the others from hearing the event, nor
   * break the calls the event reports on; its exception then goes to this thread's
   * uncaught-exception handler, the way an exception thrown by a task reaches it, so that the bug
   * is seen.
   */
  private void fire(Event event) {
    RuntimeException thrown = null;
    for (AuthListener listener : listeners) {
      try {
        event.deliver(listener);
      } catch (RuntimeException e) {
        if (thrown == null) {
          thrown = e;
        } else {
          thrown.addSuppressed(e);
        }
      }
    }
    if (thrown != null) {
      Thread thread = Thread.currentThread();
      Thread.UncaughtExceptionHandler handler = thread.getUncaughtExceptionHandler();
      if (handler != null) handler.uncaughtException(thread, thrown);
    }
  }
}
