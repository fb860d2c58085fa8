package dev.retrofitauth.micrometer;

import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.SessionRegistry;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import java.util.function.ToLongFunction;
import org.jspecify.annotations.Nullable;

/**
 * Binds the {@link RefreshManager#stats() stats} of one {@link RefreshManager}, or of every
 * credential of a {@link SessionRegistry}, to a Micrometer {@link MeterRegistry}.
 *
 * <pre>{@code
 * RefreshManager auth = RefreshManager.builder()...build();
 * RetrofitAuthMetrics.create(auth, Tags.of("manager", "payments")).bindTo(registry);
 *
 * SessionRegistry sessions = SessionRegistry.builder()...build();
 * RetrofitAuthMetrics.create(sessions).bindTo(registry);   // tagged credential=default, =user, ...
 * }</pre>
 *
 * <p>It registers these meters, each with the extra tags given to {@code create}, and for a {@link
 * SessionRegistry} once per credential with the tag {@code credential}:
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
 *   <tr><td>{@code retrofit.auth.sessions.live}</td><td>gauge</td>
 *       <td>none of its own; for a {@code SessionRegistry} only</td>
 *       <td>{@link SessionRegistry#liveSessions Sessions live} right now: 1 for a named
 *       credential; for a keyed one, those built and not evicted.</td></tr>
 * </table>
 *
 * <p>The tag {@code credential} is the name a credential was added under: {@code default} for the
 * default credential. For a keyed credential the meters add up all its sessions, evicted ones
 * included ({@link SessionRegistry#stats(String)}), so its counters only grow. <b>No meter is ever
 * tagged by a key</b> (a user, a set of scopes): a tag whose values grow with the users would give
 * the metrics backend a new time series for every user, which is how a backend runs out of memory.
 * Never put a key in the tags you pass either; one user's counters are {@link
 * dev.retrofitauth.KeyedSessions#stats(Object)}.
 *
 * <p>Every meter reads the stats when the registry asks for its value; this class stores no counts
 * of its own. Each read takes the manager's lock briefly; for a keyed credential, it adds up the
 * counters of every live session of the credential, so a scrape walks each keyed credential's live
 * sessions about a dozen times. A timer's count and total time are two reads, so a refresh that
 * ends between them shows in one of them only until the next read. An app with several managers
 * binds each with a tag that tells them apart, and gives every one the same tag keys: some
 * registries, Prometheus among them, refuse two meters with one name and different tag keys. For
 * the same reason, bind a {@code SessionRegistry} or its managers, not both.
 *
 * <p>Neither this binder nor the meters keep the manager or the session registry alive: they hold
 * it weakly, as Micrometer's own binders do with the objects they observe. An app that builds a
 * manager per session and drops it at sign-out would otherwise keep every dropped manager, and the
 * tokens its store holds in memory, for as long as the registry lives. Once a manager or session
 * registry has been collected its gauges read {@code NaN} and its counters and timers keep the
 * values they last read; {@link MeterRegistry#remove} drops them.
 *
 * <p>Instances are immutable and thread-safe, and may be bound to several registries.
 */
public final class RetrofitAuthMetrics implements MeterBinder {
  private static final String CREDENTIAL = "credential";

  private final List<Source<?>> sources;
  private final Tags tags;

  private RetrofitAuthMetrics(List<Source<?>> sources, Tags tags) {
    this.sources = sources;
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
    Source<RefreshManager> source =
        new Source<>(new WeakReference<>(manager), Tags.empty(), RefreshManager::stats, null);
    return new RetrofitAuthMetrics(Collections.<Source<?>>singletonList(source), Tags.of(tags));
  }

  /**
   * Returns a binder for the meters of every credential of {@code registry}, each tagged with its
   * credential's name and never with a key, with no extra tags.
   */
  public static RetrofitAuthMetrics create(SessionRegistry registry) {
    return create(registry, Tags.empty());
  }

  /**
   * Returns a binder for the meters of every credential of {@code registry}, each tagged with its
   * credential's name and never with a key, and with {@code tags} added, for example {@code
   * Tags.of("registry", "partners")} in an app with several registries.
   *
   * @throws IllegalArgumentException if {@code tags} has the key {@code credential}.
   */
  public static RetrofitAuthMetrics create(SessionRegistry registry, Iterable<Tag> tags) {
    Objects.requireNonNull(registry, "registry == null");
    Objects.requireNonNull(tags, "tags == null");
    Tags extra = Tags.of(tags);
    for (Tag tag : extra) {
      if (tag.getKey().equals(CREDENTIAL)) {
        throw new IllegalArgumentException(
            "tags have the key \"credential\", which this binder sets to each credential's name: "
                + extra);
      }
    }
    WeakReference<SessionRegistry> observed = new WeakReference<>(registry);
    List<Source<?>> sources = new ArrayList<>();
    // The credentials are fixed when the registry is built; their keys come and go, unseen here.
    for (String credential : registry.credentials()) {
      sources.add(
          new Source<>(
              observed,
              Tags.of(CREDENTIAL, credential),
              r -> r.stats(credential),
              r -> r.liveSessions(credential)));
    }
    return new RetrofitAuthMetrics(Collections.unmodifiableList(sources), extra);
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    Objects.requireNonNull(registry, "registry == null");
    for (Source<?> source : sources) bind(registry, source);
  }

  private <T> void bind(MeterRegistry registry, Source<T> source) {
    T observed = source.observed.get();
    if (observed == null) return; // Collected before it was bound: there is nothing to measure.
    Tags tags = this.tags.and(source.tags);
    Function<T, RefreshManager.Stats> stats = source.stats;

    // Every function takes the observed object (a manager or a session registry) as its argument
    // and captures nothing but other such functions and a credential's name, never that object, so
    // that Micrometer's weak reference to `observed` is the only one the registry holds.
    refreshTimer(
        registry,
        observed,
        tags,
        stats,
        "succeeded",
        RefreshManager.Stats::refreshesSucceeded,
        s -> s.refreshTimeSucceeded(TimeUnit.NANOSECONDS));
    refreshTimer(
        registry,
        observed,
        tags,
        stats,
        "rejected",
        RefreshManager.Stats::refreshesRejected,
        s -> s.refreshTimeRejected(TimeUnit.NANOSECONDS));
    refreshTimer(
        registry,
        observed,
        tags,
        stats,
        "failed",
        RefreshManager.Stats::refreshesFailed,
        s -> s.refreshTimeFailed(TimeUnit.NANOSECONDS));

    counter(
        registry,
        observed,
        tags,
        stats,
        "retrofit.auth.refreshes.started",
        "Refreshes started, proactive ones included",
        RefreshManager.Stats::refreshesStarted);
    counter(
        registry,
        observed,
        tags,
        stats,
        "retrofit.auth.stale.401s",
        "401s for a token that had already been replaced, retried without a refresh",
        RefreshManager.Stats::stale401s);
    counter(
        registry,
        observed,
        tags,
        stats,
        "retrofit.auth.retries",
        "Calls sent a second time after a 401",
        RefreshManager.Stats::retries);
    counter(
        registry,
        observed,
        tags,
        stats,
        "retrofit.auth.dead.token.requests.avoided",
        "Requests with a token known to be dead, answered locally instead of sent",
        RefreshManager.Stats::deadTokenRequestsAvoided);
    counter(
        registry,
        observed,
        tags,
        stats,
        "retrofit.auth.dpop.nonce.resends",
        "Requests sent again once because the server asked for a new DPoP nonce",
        RefreshManager.Stats::dpopNonceResends);

    Gauge.builder(
            "retrofit.auth.calls.waiting", observed, o -> stats.apply(o).callsWaitingForRefresh())
        .tags(tags)
        .tag("for", "refresh")
        .description("Calls waiting for a refresh to end")
        .register(registry);
    Gauge.builder(
            "retrofit.auth.calls.waiting", observed, o -> stats.apply(o).callsWaitingForRetrySlot())
        .tags(tags)
        .tag("for", "retry.slot")
        .description("Calls waiting for a retry slot in queue mode")
        .register(registry);

    if (source.liveSessions != null) {
      Gauge.builder("retrofit.auth.sessions.live", observed, source.liveSessions)
          .tags(tags)
          .description("Sessions live right now: built and not evicted")
          .register(registry);
    }
  }

  private static <T> void refreshTimer(
      MeterRegistry registry,
      T observed,
      Tags tags,
      Function<T, RefreshManager.Stats> stats,
      String outcome,
      ToLongFunction<RefreshManager.Stats> count,
      ToLongFunction<RefreshManager.Stats> totalNanos) {
    FunctionTimer.builder(
            "retrofit.auth.refreshes",
            observed,
            o -> count.applyAsLong(stats.apply(o)),
            o -> (double) totalNanos.applyAsLong(stats.apply(o)),
            TimeUnit.NANOSECONDS)
        .tags(tags)
        .tag("outcome", outcome)
        .description("Ended refreshes and the time they took, by outcome")
        .register(registry);
  }

  private static <T> void counter(
      MeterRegistry registry,
      T observed,
      Tags tags,
      Function<T, RefreshManager.Stats> stats,
      String name,
      String description,
      ToLongFunction<RefreshManager.Stats> count) {
    FunctionCounter.builder(name, observed, o -> (double) count.applyAsLong(stats.apply(o)))
        .tags(tags)
        .description(description)
        .register(registry);
  }

  /**
   * One set of meters: the object they observe, held weakly; how to read its stats, and its live
   * sessions if it has any; and the tags that tell this set from the binder's others.
   */
  private static final class Source<T> {
    final WeakReference<T> observed;
    final Tags tags;
    final Function<T, RefreshManager.Stats> stats;
    final @Nullable ToDoubleFunction<T> liveSessions; // Null for one manager: no sessions gauge.

    Source(
        WeakReference<T> observed,
        Tags tags,
        Function<T, RefreshManager.Stats> stats,
        @Nullable ToDoubleFunction<T> liveSessions) {
      this.observed = observed;
      this.tags = tags;
      this.stats = stats;
      this.liveSessions = liveSessions;
    }
  }

  @Override
  public String toString() {
    return "RetrofitAuthMetrics{tags=" + tags + "}";
  }
}
