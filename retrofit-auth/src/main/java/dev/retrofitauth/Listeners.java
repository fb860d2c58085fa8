package dev.retrofitauth;

import java.io.IOException;

/** Tells every {@link AuthListener} about an event, one method per event. */
final class Listeners {
  private final AuthListener[] listeners;

  Listeners(AuthListener[] listeners) {
    this.listeners = listeners;
  }

  void signedIn() {
    fire(AuthListener::onSignedIn);
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

  void storeFailed(Exception cause) {
    fire(listener -> listener.onStoreFailed(cause));
  }

  private interface Event {
    void deliver(AuthListener listener);
  }

  private void fire(Event event) {
    for (AuthListener listener : listeners) {
      try {
        event.deliver(listener);
      } catch (RuntimeException ignored) {
        // Listeners are user code; one that throws must not break the calls it reports on.
      }
    }
  }
}
