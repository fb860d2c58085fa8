package dev.retrofitauth.micrometer;

import dev.retrofitauth.RefreshManager;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.lang.ref.WeakReference;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.ToLongFunction;

/**
 * Binds the {@link RefreshManager#stats() stats} of one {@link RefreshManager} to a Micrometer
 * {@link MeterRegistry}.
 *
 * <pre>{@code
 * RefreshManager auth = RefreshManager.builder()...build();
 * RetrofitAuthMetrics.create(auth, Tags.of("manager", "payments")).bindTo(registry);
 * }</pre>
 *
 * <p>It registers these meters, each with the extra tags given to {@link #create(RefreshManager,
 * Iterable)}:
 *
 * <table>
 *   <caption>Meters</caption>
 *   <tr><th>name</th><th>type</th><th>tags</th><th>what it measures</th></tr>
 *   <tr><td>{@code retrofit.auth.refreshes}</td><td>function timer, seconds</td>
 *       <td>{@code outcome}: {@code succeeded}, {@code rejected}, {@code failed}</td>
 *       <td>Ended refreshes and the time they took, by how they ended: new tokens that were kept;
 *       {@link dev.retrofitauth.RefreshRejectedException}; a transient failure or a timeout.</td>
 *   </tr>
 *   <tr><td>{@code retrofit.auth.refreshes.started}</td><td>function counter</td><td></td>
 *       <td>Refreshes started, proactive ones included.</td></tr>
 *   <tr><td>{@code retrofit.auth.stale.401s}</td><td>function counter</td><td></td>
 *       <td>401s for a token that had already been replaced, retried without a refresh.</td></tr>
 *   <tr><td>{@code retrofit.auth.retries}</td><td>function counter</td><td></td>
 *       <td>Calls sent a second time after a 401.</td></tr>
 *   <tr><td>{@code retrofit.auth.dead.token.requests.avoided}</td><td>function counter</td>
 *       <td></td><td>Requests that were about to go out with a token known to be dead and were
 *       answered locally instead, to be retried with the new token.</td></tr>
 *   <tr><td>{@code retrofit.auth.dpop.nonce.resends}</td><td>function counter</td><td></td>
 *       <td>Requests sent again once because the server asked for a new DPoP nonce.</td></tr>
 *   <tr><td>{@code retrofit.auth.calls.waiting}</td><td>gauge</td>
 *       <td>{@code for}: {@code refresh}, {@code retry.slot}</td>
 *       <td>Calls waiting right now for a refresh to end, or (queue mode) for a retry slot after
 *       it ended. Their sum is every call the manager holds back.</td></tr>
 * </table>
 *
 * <p>Every meter reads {@link RefreshManager#stats()} when the registry asks for its value; this
 * class stores no counts of its own. Each read takes the manager's lock briefly. A timer's count
 * and total time are two reads, so a refresh that ends between them shows in one of them only until
 * the next read. An app with several managers binds each with a tag that tells them apart, and
 * gives every one the same tag keys: some registries, Prometheus among them, refuse two meters with
 * one name and different tag keys.
 *
 * <p>Neither this binder nor the meters keep the manager alive: they hold it weakly, as
 * Micrometer's own binders do with the objects they observe. An app that builds a manager per
 * session and drops it at sign-out would otherwise keep every dropped manager, and the tokens its
 * store holds in memory, for as long as the registry lives. Once a manager has been collected its
 * gauges read {@code NaN} and its counters and timers keep their last values; {@link
 * MeterRegistry#remove} drops them.
 *
 * <p>Instances are immutable and thread-safe, and may be bound to several registries.
 */
public final class RetrofitAuthMetrics implements MeterBinder {
  private final WeakReference<RefreshManager> manager;
  private final Tags tags;

  private RetrofitAuthMetrics(RefreshManager manager, Tags tags) {
    this.manager = new WeakReference<>(manager);
    this.tags = tags;
  }

  /** Returns a binder for {@code manager}'s meters, with no extra tags. */
  public static RetrofitAuthMetrics create(RefreshManager manager) {
    return create(manager, Tags.empty());
  }

  /**
   * Returns a binder for {@code manager}'s meters, each with {@code tags} added, for example {@code
   * Tags.of("manager", "payments")} in an app with several managers.
   */
  public static RetrofitAuthMetrics create(RefreshManager manager, Iterable<Tag> tags) {
    Objects.requireNonNull(manager, "manager == null");
    Objects.requireNonNull(tags, "tags == null");
    return new RetrofitAuthMetrics(manager, Tags.of(tags));
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    Objects.requireNonNull(registry, "registry == null");
    RefreshManager auth = manager.get();
    if (auth == null) return; // Collected before it was bound: there is nothing to measure.

    // Every function takes the manager as its argument and captures nothing, so that Micrometer's
    // weak reference to `auth` is the only one the registry holds.
    refreshTimer(
        registry,
        auth,
        "succeeded",
        RefreshManager.Stats::refreshesSucceeded,
        s -> s.refreshTimeSucceeded(TimeUnit.NANOSECONDS));
    refreshTimer(
        registry,
        auth,
        "rejected",
        RefreshManager.Stats::refreshesRejected,
        s -> s.refreshTimeRejected(TimeUnit.NANOSECONDS));
    refreshTimer(
        registry,
        auth,
        "failed",
        RefreshManager.Stats::refreshesFailed,
        s -> s.refreshTimeFailed(TimeUnit.NANOSECONDS));

    counter(
        registry,
        auth,
        "retrofit.auth.refreshes.started",
        "Refreshes started, proactive ones included",
        RefreshManager.Stats::refreshesStarted);
    counter(
        registry,
        auth,
        "retrofit.auth.stale.401s",
        "401s for a token that had already been replaced, retried without a refresh",
        RefreshManager.Stats::stale401s);
    counter(
        registry,
        auth,
        "retrofit.auth.retries",
        "Calls sent a second time after a 401",
        RefreshManager.Stats::retries);
    counter(
        registry,
        auth,
        "retrofit.auth.dead.token.requests.avoided",
        "Requests with a token known to be dead, answered locally instead of sent",
        RefreshManager.Stats::deadTokenRequestsAvoided);
    counter(
        registry,
        auth,
        "retrofit.auth.dpop.nonce.resends",
        "Requests sent again once because the server asked for a new DPoP nonce",
        RefreshManager.Stats::dpopNonceResends);

    Gauge.builder("retrofit.auth.calls.waiting", auth, m -> m.stats().callsWaitingForRefresh())
        .tags(tags)
        .tag("for", "refresh")
        .description("Calls waiting for a refresh to end")
        .register(registry);
    Gauge.builder("retrofit.auth.calls.waiting", auth, m -> m.stats().callsWaitingForRetrySlot())
        .tags(tags)
        .tag("for", "retry.slot")
        .description("Calls waiting for a retry slot in queue mode")
        .register(registry);
  }

  private void refreshTimer(
      MeterRegistry registry,
      RefreshManager auth,
      String outcome,
      ToLongFunction<RefreshManager.Stats> count,
      ToLongFunction<RefreshManager.Stats> totalNanos) {
    FunctionTimer.builder(
            "retrofit.auth.refreshes",
            auth,
            m -> count.applyAsLong(m.stats()),
            m -> (double) totalNanos.applyAsLong(m.stats()),
            TimeUnit.NANOSECONDS)
        .tags(tags)
        .tag("outcome", outcome)
        .description("Ended refreshes and the time they took, by outcome")
        .register(registry);
  }

  private void counter(
      MeterRegistry registry,
      RefreshManager auth,
      String name,
      String description,
      ToLongFunction<RefreshManager.Stats> count) {
    FunctionCounter.builder(name, auth, m -> (double) count.applyAsLong(m.stats()))
        .tags(tags)
        .description(description)
        .register(registry);
  }

  @Override
  public String toString() {
    return "RetrofitAuthMetrics{tags=" + tags + "}";
  }
}
