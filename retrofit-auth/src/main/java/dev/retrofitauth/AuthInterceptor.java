package dev.retrofitauth;

import dev.retrofitauth.RequestTags.AuthMark;
import dev.retrofitauth.RequestTags.DPoPNonce;
import dev.retrofitauth.RequestTags.DPoPSigned;
import dev.retrofitauth.RequestTags.RuleMatch;
import dev.retrofitauth.internal.Challenges;
import dev.retrofitauth.internal.Internal.AuthComponent;
import java.io.IOException;
import okhttp3.Interceptor;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import org.jspecify.annotations.Nullable;
import retrofit2.Invocation;

/**
 * Adds {@code Authorization: Bearer <access token>} (or {@code DPoP <token>}) to requests for
 * allowed origins, and marks every request it handles so that {@link AuthCall} can tell a withheld
 * token from a missing interceptor. With DPoP, {@link DPoPNetworkInterceptor} signs the proof of
 * each network hop; this one checks that it did, and sends a request again once when the server
 * asks for a new nonce. With a {@link RefreshRule} it marks the responses the rule names.
 */
final class AuthInterceptor implements Interceptor, AuthComponent {
  private final Engine engine;
  private final MethodPolicy.Cache policies;
  private final Origins origins;
  private final @Nullable DPoP dpop;
  private final @Nullable RefreshRule refreshRule;

  AuthInterceptor(
      Engine engine,
      MethodPolicy.Cache policies,
      Origins origins,
      @Nullable DPoP dpop,
      @Nullable RefreshRule refreshRule) {
    this.engine = engine;
    this.policies = policies;
    this.origins = origins;
    this.dpop = dpop;
    this.refreshRule = refreshRule;
  }

  @Override
  public Response intercept(Chain chain) throws IOException {
    if (chain.connection() != null) {
      // As a network interceptor it would add the token again after OkHttp removed it from a
      // redirect to another host.
      throw new IllegalStateException(
          "auth.interceptor() was added as a network interceptor. Add it with "
              + "OkHttpClient.Builder.addInterceptor(auth.interceptor()) instead of "
              + "addNetworkInterceptor(...).");
    }
    Request request = chain.request();
    Invocation invocation = request.tag(Invocation.class);
    MethodPolicy policy = policies.get(invocation);
    String header = headerFor(request, invocation, policy);
    if (header == null) {
      return chain.proceed(request.newBuilder().tag(AuthMark.class, AuthMark.WITHHELD).build());
    }
    Request authorized =
        request
            .newBuilder()
            .header(RequestTags.AUTHORIZATION, header)
            .tag(AuthMark.class, AuthMark.ATTACHED)
            .build();
    // A call that AuthCall will retry, with a token that already got a 401 while its refresh
    // runs: the network would only say 401 again. Answer it here, at no cost, and without
    // blocking this thread; AuthCall then waits for the refresh like any call that got a 401.
    if (invocation != null
        && policy.wrapped
        && !policy.noRetry
        && canResend(request) // AuthCall retries no one-shot body.
        && engine.tokenKnownDead(header)
        && !engine.onRefreshThread()) { // The refresh's own call: let it go out.
      engine.countDeadTokenRequestAvoided();
      return knownDead(authorized);
    }
    Response response = chain.proceed(authorized);
    if (dpop != null) {
      checkProofSigned(response);
      // Only an answer from the origin the token went to may ask for a nonce: after a redirect to
      // another origin, OkHttp removed the token, and that origin's nonce is not the API's.
      String nonce = response.header("DPoP-Nonce");
      if (nonce != null
          && response.request().header(RequestTags.AUTHORIZATION) != null
          && asksForNonce(response)
          && canResend(request)) {
        // "Send again with this nonce": not a refresh, and it does not use up the retry. Whether
        // or not another call learnt this nonce first, this request went without it.
        response.close();
        engine.countDpopNonceResend();
        response =
            chain.proceed(
                authorized.newBuilder().tag(DPoPNonce.class, new DPoPNonce(nonce)).build());
        checkProofSigned(response);
      }
    }
    String retriedWith = response.request().header(RequestTags.AUTHORIZATION);
    if (response.code() != 401 && retriedWith != null && retriedAfter401(response)) {
      engine.retryAnswered(retriedWith, false); // auth.authenticator()'s retry was not refused.
    }
    return applyRule(response);
  }

  private static boolean retriedAfter401(Response response) {
    for (Response prior = response.priorResponse(); prior != null; prior = prior.priorResponse()) {
      if (prior.code() == 401) return true;
    }
    return false;
  }

  /** A local 401 for {@code sent}, shaped like one from the network so that AuthCall reads it. */
  private static Response knownDead(Request sent) {
    Response network =
        new Response.Builder()
            .request(sent)
            .protocol(Protocol.HTTP_1_1)
            .code(401)
            .message("Unauthorized (the token is known to be dead; not sent)")
            .build();
    return network
        .newBuilder()
        .body(ResponseBody.create("", null))
        .networkResponse(network)
        .build();
  }

  /**
   * Fails the call if the request that reached the network carried the token but no proof: with
   * DPoP, {@code auth.networkInterceptor()} signs one for each network hop, and it is missing.
   */
  private static void checkProofSigned(Response response) {
    Response network = response.networkResponse();
    if (network == null) return; // From the cache.
    Request sent = network.request();
    if (sent.header(RequestTags.AUTHORIZATION) == null) return; // No token went out: no proof.
    if (sent.tag(DPoPSigned.class) != null) return;
    response.close();
    throw new IllegalStateException(
        "DPoP proofs are signed for each network hop by auth.networkInterceptor(), and the request"
            + " went out without it. Add it to the OkHttpClient: new OkHttpClient.Builder()"
            + ".addInterceptor(auth.interceptor()).addNetworkInterceptor(auth.networkInterceptor())");
  }

  private static boolean asksForNonce(Response response) {
    if (response.code() != 401) return false;
    for (Challenges.Challenge challenge : Challenges.parse(response.headers("WWW-Authenticate"))) {
      if (challenge.is("DPoP") && "use_dpop_nonce".equals(challenge.param("error"))) return true;
    }
    return false;
  }

  private static boolean canResend(Request request) {
    return request.body() == null || !request.body().isOneShot();
  }

  /**
   * Marks a response that the app's {@link RefreshRule} says means an expired token, so that the
   * call refreshes and retries it as it would a 401. The rule reads a copy of the body.
   */
  private Response applyRule(Response response) throws IOException {
    RefreshRule rule = refreshRule;
    if (rule == null || response.code() == 401) return response;
    boolean expired;
    try (Response copy = response.newBuilder().body(response.peekBody(8 * 1024)).build()) {
      expired = rule.tokenExpired(copy);
    } catch (IOException e) {
      response.close();
      throw e;
    } catch (RuntimeException e) {
      response.close();
      throw new IOException("RefreshRule threw " + e.getClass().getName(), e);
    }
    if (!expired) return response;
    Request marked =
        response.request().newBuilder().tag(RuleMatch.class, RuleMatch.TOKEN_EXPIRED).build();
    return response.newBuilder().request(marked).build();
  }

  /**
   * Returns the header value to send with {@code request}, or null to send none. Throws when the
   * request was meant to carry the token but may not, so that the caller learns why and how to fix
   * it instead of seeing a bare 401.
   */
  private @Nullable String headerFor(
      Request request, @Nullable Invocation invocation, MethodPolicy policy) throws IOException {
    if (request.header(RequestTags.AUTHORIZATION) != null) return null; // The caller set its own.
    if (policy.noAuth) return null;
    String header = engine.header();
    if (header == null) return null; // Signed out.
    boolean unwrapped =
        invocation != null && !policy.wrapped && !policy.noRetry && !origins.authenticatorTaken();
    if (unwrapped && isRx(invocation)) {
      // RxJava's factory came first and took the call: say that, before any other reason.
      throw new IOException(notWrapped(invocation, policy));
    }
    if (!origins.mayReceiveToken(request.url())) {
      String withheld = origins.withheldReason(request.url());
      if (withheld != null) throw new IOException(withheld);
      return null; // Another origin, on purpose.
    }
    if (unwrapped && (origins.factoryInUse() || engine.refreshes())) {
      // Sent as it is, it would work until the token expires, then get bare 401s for ever.
      throw new IOException(notWrapped(invocation, policy));
    }
    checkProvable(header, dpop != null);
    return header;
  }

  /**
   * Fails a call whose token is DPoP-bound when the manager has no DPoP key: sent without a proof,
   * it can only get a 401, and a refresh cannot help.
   */
  static void checkProvable(String header, boolean hasKey) throws IOException {
    if (!hasKey && header.startsWith(Tokens.DPOP + " ")) {
      throw new IOException(
          "the access token is DPoP-bound (token type DPoP), and this manager has no DPoP key to"
              + " prove it with, so the request was not sent: build the manager with"
              + " RefreshManager.Builder.dpop(...) and the key the token is bound to");
    }
  }

  /** True if the service method returns an RxJava type, whose factories never delegate. */
  private static boolean isRx(Invocation invocation) {
    return invocation.method().getReturnType().getName().startsWith("io.reactivex.");
  }

  /** Why a Retrofit call came without {@link AuthCallAdapterFactory}'s wrapping, and the fix. */
  private String notWrapped(Invocation invocation, MethodPolicy policy) {
    String call =
        " The call to "
            + policy.methodName()
            + "() reached auth.interceptor() without it (mark the method @NoAuth if it must not"
            + " carry the token, or @NoRetry if it may go without a refresh).";
    String returnType = invocation.method().getReturnType().getName();
    if (isRx(invocation) && returnType.startsWith("io.reactivex.rxjava3.")) {
      // RxJava's factory takes its return types and never delegates: it was added first.
      return "Move AuthCallAdapterFactory before RxJava3CallAdapterFactory. "
          + MethodPolicy.notWrappedMessage("RxJava3CallAdapterFactory")
          + call;
    }
    if (isRx(invocation)) {
      return MethodPolicy.notWrappedMessage("RxJava2CallAdapterFactory") + call;
    }
    if (origins.factoryInUse()) {
      return MethodPolicy.notWrappedMessage("any other call adapter factory") + call;
    }
    return "Add AuthCallAdapterFactory.create(auth) to this Retrofit.Builder, first among its call"
        + " adapter factories: without it a 401 is never refreshed, and every call fails once"
        + " the token expires (or add auth.authenticator() to the OkHttpClient)."
        + call;
  }

  @Override
  public String toString() {
    return "RefreshManager.interceptor()";
  }
}
