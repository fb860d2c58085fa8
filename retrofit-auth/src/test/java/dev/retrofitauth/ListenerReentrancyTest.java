package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.Services.Api;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every event is delivered when a listener may call any public method of the manager: each event
 * against each method, on the thread that delivers it. Before the fix, an {@code onStoreFailed}
 * listener that called {@code signOut()} or {@code signIn()} waited for its own store write
 * forever, and every other thread's sign-out then hung behind it.
 */
final class ListenerReentrancyTest {
  enum Event {
    SIGNED_IN,
    REFRESHED,
    REFRESH_FAILED,
    SIGNED_OUT,
    NO_REFRESH_POSSIBLE,
    STORE_FAILED
  }

  enum Method {
    SIGN_IN(auth -> auth.signIn(Tokens.of("fromListener", "rL"))),
    SIGN_OUT(RefreshManager::signOut),
    CURRENT_TOKENS(RefreshManager::currentTokens),
    STATS(RefreshManager::stats),
    QUEUED_CALLS(RefreshManager::queuedCalls),
    CANCEL_QUEUED(auth -> auth.cancelQueued("group")),
    CANCEL_ALL_QUEUED(RefreshManager::cancelAllQueued),
    INTERCEPTOR(RefreshManager::interceptor),
    AUTHENTICATOR(RefreshManager::authenticator);

    final Consumer<RefreshManager> call;

    Method(Consumer<RefreshManager> call) {
      this.call = call;
    }
  }

  static Stream<Arguments> everyEventAgainstEveryMethod() {
    List<Arguments> result = new ArrayList<>();
    for (Event event : Event.values()) {
      for (Method method : Method.values()) result.add(Arguments.of(event, method));
    }
    return result.stream();
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @MethodSource("everyEventAgainstEveryMethod")
  void listenerMayCallAnyPublicMethod(Event event, Method method) {
    assertTimeoutPreemptively(Duration.ofSeconds(20), () -> run(event, method));
    Await.noDeadlock();
  }

  private static void run(Event event, Method method) throws Exception {
    AtomicReference<RefreshManager> manager = new AtomicReference<>();
    AtomicBoolean called = new AtomicBoolean();
    CountDownLatch returned = new CountDownLatch(1);
    AtomicReference<@Nullable Throwable> thrown = new AtomicReference<>();
    Runnable callOnce =
        () -> {
          // Not while the fixture builds and signs in; then only for the first event.
          if (manager.get() == null || !called.compareAndSet(false, true)) return;
          try {
            method.call.accept(manager.get());
          } catch (Throwable t) {
            thrown.set(t);
          } finally {
            returned.countDown();
          }
        };
    FailingStore store = new FailingStore(event == Event.STORE_FAILED);
    GatedRefreshApi refreshApi =
        event == Event.REFRESH_FAILED
            ? GatedRefreshApi.throwing(new IOException("token endpoint down"))
            : event == Event.SIGNED_OUT
                ? GatedRefreshApi.throwing(new RefreshRejectedException("revoked"))
                : GatedRefreshApi.returning(Tokens.of("new", "r2"));
    RefreshManager.Builder builder =
        RefreshManager.builder()
            .tokenStore(store)
            .addListener(listenerFor(event, callOnce))
            .refreshBackoff(0, 0, TimeUnit.MILLISECONDS);
    if (event != Event.NO_REFRESH_POSSIBLE) builder.refreshApi(refreshApi);
    try (Fixture fixture = Fixture.create(builder.queueMode(true))) {
      manager.set(fixture.auth);
      if (event == Event.SIGNED_IN) {
        fixture.auth.signIn(Tokens.of("old", "r1"));
      } else {
        fixture.server.acceptOnly("new");
        Api api = fixture.create(Api.class);
        try {
          api.me().execute(); // Whatever it returns: the event is what is tested.
        } catch (IOException expected) {
          // A failed refresh, or a listener that canceled the queued call.
        }
      }
      assertTrue(returned.await(10, TimeUnit.SECONDS), "the listener's call returned");
      assertNull(thrown.get(), "the listener's call threw");
      // The manager still works from another thread: nothing is left holding a lock or a write.
      Thread other = new Thread(fixture.auth::signOut);
      other.start();
      other.join(TimeUnit.SECONDS.toMillis(10));
      assertEquals(false, other.isAlive(), "signOut() from another thread hung");
      assertNull(fixture.auth.currentTokens());
    }
  }

  private static AuthListener listenerFor(Event event, Runnable callOnce) {
    return new AuthListener() {
      @Override
      public void onSignedIn() {
        if (event == Event.SIGNED_IN) callOnce.run();
      }

      @Override
      public void onRefreshed() {
        if (event == Event.REFRESHED) callOnce.run();
      }

      @Override
      public void onRefreshFailed(IOException cause) {
        if (event == Event.REFRESH_FAILED) callOnce.run();
      }

      @Override
      public void onSignedOut(SignOutReason reason) {
        if (event == Event.SIGNED_OUT) callOnce.run();
      }

      @Override
      public void onNoRefreshPossible() {
        if (event == Event.NO_REFRESH_POSSIBLE) callOnce.run();
      }

      @Override
      public void onStoreFailed(Exception cause) {
        if (event == Event.STORE_FAILED) callOnce.run();
      }
    };
  }

  /** A store whose writes fail when asked to, as a full disk's would. */
  private static final class FailingStore implements TokenStore {
    private final boolean fail;
    private volatile @Nullable Tokens tokens;

    FailingStore(boolean fail) {
      this.fail = fail;
    }

    @Override
    public @Nullable Tokens load() {
      return tokens;
    }

    @Override
    public void save(Tokens tokens) throws IOException {
      if (fail) throw new IOException("disk full");
      this.tokens = tokens;
    }

    @Override
    public void clear() throws IOException {
      if (fail) throw new IOException("disk full");
      tokens = null;
    }
  }
}
