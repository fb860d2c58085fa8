package dev.retrofitauth;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Records every event as a short string, such as {@code "signedOut REFRESH_REJECTED"}. */
final class RecordingListener extends AuthListener {
  final List<String> events = new CopyOnWriteArrayList<>();
  final List<Exception> causes = new CopyOnWriteArrayList<>();

  @Override
  public void onSignedIn() {
    events.add("signedIn");
  }

  @Override
  public void onRefreshed() {
    events.add("refreshed");
  }

  @Override
  public void onRefreshFailed(IOException cause) {
    events.add("refreshFailed");
    causes.add(cause);
  }

  @Override
  public void onSignedOut(SignOutReason reason) {
    events.add("signedOut " + reason);
  }

  @Override
  public void onNoRefreshPossible() {
    events.add("noRefreshPossible");
  }

  @Override
  public void onRevokeFailed(IOException cause) {
    events.add("revokeFailed");
    causes.add(cause);
  }

  @Override
  public void onStoreFailed(Exception cause) {
    events.add("storeFailed");
    causes.add(cause);
  }
}
