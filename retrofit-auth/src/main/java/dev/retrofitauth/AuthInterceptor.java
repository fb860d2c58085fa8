package dev.retrofitauth;

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
 * Adds {@code Authorization: Bearer <access token>} (or {@code DPoP <token>} with a proof) to
 * requests for allowed origins, and marks every request it handles so that {@link AuthCall} can
 * tell a withheld token from a missing interceptor. With DPoP it sends a request again once when
 * the server asks for a new nonce; with a {@link RefreshRule} it marks the responses the rule
 * names.
 */
final class AuthInterceptor implements Interceptor, AuthComponent {
  static final String AUTHORIZATION = "Authorization";

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
            .header(AUTHORIZATION, header)
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
    DPoP dpop = this.dpop;
    Response response;
    if (dpop == null) {
      response = chain.proceed(authorized);
    } else {
      String accessToken = header.substring(header.indexOf(' ') + 1);
      response = chain.proceed(withProof(authorized, dpop, accessToken, null));
      dpop.rememberNonce(response, false);
      String nonce = response.header("DPoP-Nonce");
      // Whether or not another call learnt this nonce first, this request went without it.
      if (nonce != null && asksForNonce(response) && canResend(request)) {
        // "Send again with this nonce": not a refresh, and it does not use up the retry.
        response.close();
        engine.countDpopNonceResend();
        response = chain.proceed(withProof(authorized, dpop, accessToken, nonce));
        dpop.rememberNonce(response, false);
      }
    }
    return applyRule(response);
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

  private static Request withProof(
      Request request, DPoP dpop, String accessToken, @Nullable String nonce) throws IOException {
    String proof =
        nonce != null
            ? dpop.proofForResource(request.method(), request.url(), accessToken, nonce)
            : dpop.proofForResource(request.method(), request.url(), accessToken);
    return request.newBuilder().header("DPoP", proof).build();
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
    if (request.header(AUTHORIZATION) != null) return null; // The caller set its own.
    if (policy.noAuth) return null;
    String header = engine.header();
    if (header == null) return null; // Signed out.
    if (!origins.mayReceiveToken(request.url())) {
      String withheld = origins.withheldReason(request.url());
      if (withheld != null) throw new IOException(withheld);
      return null; // Another origin, on purpose.
    }
    if (invocation != null && !policy.wrapped && !policy.noRetry && origins.expectsWrappedCalls()) {
      throw new IOException(
          MethodPolicy.notWrappedMessage("any other call adapter factory")
              + " The call to "
              + policy.methodName()
              + "() reached auth.interceptor() without it (mark the method @NoAuth if it must not"
              + " carry the token).");
    }
    return header;
  }

  @Override
  public String toString() {
    return "RefreshManager.interceptor()";
  }

  /** The tag on a response's request that says the app's {@link RefreshRule} matched it. */
  enum RuleMatch {
    TOKEN_EXPIRED
  }

  /** The request tag that says the interceptor handled a request, and what it did. */
  enum AuthMark {
    ATTACHED,
    WITHHELD
  }
}
